"""Everything that touches the outside world: broker, Kafka, HTTP, SQL, carriers, notifiers, CLI."""
