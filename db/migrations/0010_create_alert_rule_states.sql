-- Evaluation state of each (rule, sensor) pair, written in the same transaction as the batch that changed
-- it, so a restart in the middle of a for-duration resumes where it stopped.
CREATE TABLE alert_rule_states (
  rule_id INTEGER NOT NULL REFERENCES alert_rules (id) ON DELETE CASCADE,
  sensor_id INTEGER NOT NULL REFERENCES sensors (id) ON DELETE CASCADE,
  pending_since_ms INTEGER,
  pending_readings INTEGER NOT NULL DEFAULT 0,
  last_ts_ms INTEGER,
  updated_ms INTEGER NOT NULL,
  PRIMARY KEY (rule_id, sensor_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX alerts_sensor ON alerts (sensor_id, opened_ms);
CREATE INDEX alerts_opened ON alerts (opened_ms);
CREATE INDEX alerts_rule ON alerts (rule_id);
CREATE INDEX alert_rules_sensor ON alert_rules (sensor_id);
CREATE INDEX alert_rules_machine ON alert_rules (machine_id);
CREATE INDEX alert_rules_factory ON alert_rules (factory_id);
