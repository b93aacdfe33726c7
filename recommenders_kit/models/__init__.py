"""Models, each with a pandas and a Spark twin: the recommenders ALS (``als``), EASE
(``ease``) and popularity (``popularity``), and the LightGBM click model (``lightgbm``);
``base`` holds the protocols every model follows.

>>> cls, params = recommender("ease", "pandas")
>>> cls.__name__, sorted(params)
('EASERecommender', ['lam', 'weighting'])
"""

import importlib
from typing import Any

from recommenders_kit._validate import require_choice

#: The recommenders by the name the quickstart and the CLI take (``model=``), with the class
#: each twin module defines.
RECOMMENDERS = {
    "als": "ALSRecommender",
    "ease": "EASERecommender",
    "popularity": "PopularityRecommender",
}


def recommender(name: str, engine: str) -> tuple[type, dict[str, Any]]:
    """The class of recommender ``name`` on ``engine`` (``"pandas"`` or ``"spark"``) and its
    module's ``RECOMMENDED_TOP_K`` parameters (a copy)."""
    require_choice(name, list(RECOMMENDERS), "model")
    require_choice(engine, ["pandas", "spark"], "engine")
    module = importlib.import_module(f"recommenders_kit.models.{name}.{engine}")
    return getattr(module, RECOMMENDERS[name]), dict(module.RECOMMENDED_TOP_K)
