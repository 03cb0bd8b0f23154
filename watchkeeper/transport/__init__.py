"""How batches leave a process: the local durable spool and the Kafka client factories."""
