"""recommenders_kit: from raw interaction data to a recommender web service."""

__version__ = "0.1.0"
