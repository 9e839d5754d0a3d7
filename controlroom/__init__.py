"""controlroom: a control room for industrial telemetry over RabbitMQ and PostgreSQL."""

__version__ = "0.1.0"
