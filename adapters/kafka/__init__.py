"""What talks to Kafka: the embedded broker, topic creation, log ends corrected for tansu, the publisher the
HTTP intake uses, and the projection runner that consumes the topics into the views."""
