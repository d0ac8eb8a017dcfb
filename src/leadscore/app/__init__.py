"""The application layer: one module per use case, called by the CLI, the service and the
dashboard alike (docs/architecture.md).

* ``project``: the project folder, its settings and its model files.
* ``scoring``: score every lead or the leads a write touched; keep results, stage changes and
  the webhook deliveries they owe.
* ``preparations``: the prepared batches a process keeps between scoring runs, behind one
  object: every lead's batch kept between runs of a command (``prepared_batches``), each
  lead's part kept between the service's rounds (``kept_leads``).
* ``explain``: one lead's result with every contribution and its stage history.
* ``notifications``: which change owes which webhook delivery.
* ``recycle``: sales sends a lead back.
* ``accounts``: accounts ranked by their leads' engagement.
* ``model_versions``: uploaded, active and earlier versions of the point models.
"""
