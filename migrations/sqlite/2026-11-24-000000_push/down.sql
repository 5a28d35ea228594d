DROP TABLE push_state;
DROP TABLE push_certs;
