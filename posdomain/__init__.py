"""Shared pure domain for Cosmic Forge POS: money, errors, event envelope, audit chain.

Imports no Flask, peewee, paho or device library, so both the appliance and the
hub (and the tests) can use it without dragging either side's stack along.
"""
