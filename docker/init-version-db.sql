-- The version service owns its own database.
CREATE DATABASE version OWNER licensedot;
