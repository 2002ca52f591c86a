"""Drawing: each function takes result objects and an optional ``ax``, returns the figure."""
