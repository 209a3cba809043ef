"""The store boxes a tenant enrols: one-time enrolment codes, per-box MQTT credentials and broker
ACL files, replacement, commissioning reports.
"""
