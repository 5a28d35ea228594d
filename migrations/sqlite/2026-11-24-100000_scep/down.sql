DROP TABLE scep_challenges;
DROP TABLE scep_certs;
