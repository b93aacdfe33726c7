"""Criteo click prediction with LightGBM: ``features`` (encoders), ``native`` (one machine),
``synapse`` (Spark with SynapseML)."""
