DROP TABLE custom_attributes;
DROP TABLE secrets;
DROP TABLE app_events;
DROP TABLE app_inventory;
DROP TABLE device_apps;
DROP TABLE app_assignments;
DROP TABLE apps;
