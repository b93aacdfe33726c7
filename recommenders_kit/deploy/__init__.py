"""Deploying the scoring service: :mod:`~recommenders_kit.deploy.azureml` builds Azure ML model
assets, environments, endpoints and deployments (managed or Kubernetes) and shifts traffic.
"""
