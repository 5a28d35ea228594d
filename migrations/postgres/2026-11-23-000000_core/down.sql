DROP TABLE declarative_messages;
DROP TABLE command_results;
DROP TABLE enrollment_queue;
DROP TABLE commands;
DROP TABLE enrollments;
DROP TABLE cert_bindings;
DROP TABLE devices;
