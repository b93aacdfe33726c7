"""Train/test splitters: ``pandas`` (one machine) and ``spark`` (distributed), same API.

* ``random_split``: rows shuffled with a seed, cut by ``ratio``;
* ``chronological_split``: per user (or item), earliest interactions to the first split;
* ``stratified_split``: per user (or item), a random ``ratio`` share to each split.
"""
