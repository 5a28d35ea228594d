DROP TABLE webhook_replays;
DROP TABLE webhook_dead_letters;
DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
DROP TABLE event_sequence;
DROP TABLE events;
