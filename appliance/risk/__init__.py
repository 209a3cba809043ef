"""Risk modes on the box (FR-701): the mode the hub last sent, enforced offline too."""
