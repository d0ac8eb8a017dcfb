"""The application layer: one module per use case, called by the CLI, the service and the
dashboard alike (docs/architecture.md).

* ``project``: the project folder, its settings and its model files.
* ``scoring``: score every lead or the leads a write touched; keep results, stage changes and
  the webhook deliveries they owe.
* ``prepared_batches`` and ``kept_leads``: the two preparation caches (a batch kept between
  runs of ``leadscore score``; each lead's part kept between the service's rounds).
* ``explain``: one lead's result with every contribution and its stage history.
* ``notifications``: which change owes which webhook delivery.
* ``recycle``: sales sends a lead back.
* ``accounts``: accounts ranked by their leads' engagement.
* ``model_versions``: uploaded, active and earlier versions of the point models.
"""
