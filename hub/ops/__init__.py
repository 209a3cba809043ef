"""Operations (FR-500, FR-501 rules, FR-700, FR-P7-1001..1004): fleet health, metrics, alert
rules, hub backups and the restore drill, the scheduler that runs them."""
