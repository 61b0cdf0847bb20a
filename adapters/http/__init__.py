"""What answers HTTP: the API, the dashboard beside it, and the channel connectors whose webhooks it takes."""
