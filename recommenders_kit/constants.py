"""Default column names shared by every module.

Every public function takes its column names as keyword arguments (``col_user=...``) that
default to these constants, so a frame with other names needs no renaming.
"""

DEFAULT_USER_COL = "userID"
DEFAULT_ITEM_COL = "itemID"
DEFAULT_RATING_COL = "rating"
DEFAULT_TIMESTAMP_COL = "timestamp"
DEFAULT_PREDICTION_COL = "prediction"
DEFAULT_LABEL_COL = "label"

DEFAULT_TITLE_COL = "title"
DEFAULT_GENRE_COL = "genres"
DEFAULT_YEAR_COL = "year"

DEFAULT_K = 10
DEFAULT_THRESHOLD = 10
DEFAULT_SEED = 42

#: The train share of a two-way split.
DEFAULT_SPLIT_RATIO = 0.75
#: The split seed of the quickstarts, sweeps and benchmarks on MovieLens: the reference
#: toolkit's notebooks split 75/25 with seed 123, so the figures can be compared.
DEFAULT_SPLIT_SEED = 123
#: The share of the training rows a sweep's objective holds out for validation.
DEFAULT_VALID_RATIO = 0.2
