"""Public data sets: verified, cached downloads and loaders for pandas and Spark."""
