from nooverfit.cli import main

main()
