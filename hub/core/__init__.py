"""Infrastructure every hub area uses: database binding and tenant-scoped transactions, the model
base and field types, multi-row inserts, MQTT connection credentials.
"""
