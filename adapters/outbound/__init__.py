"""What the pipeline calls out to: carriers that book shipments, notifiers that send the customer's messages."""
