//! SCEP (RFC 8894): message types, server and client. Grows in the SCEP work; empty for now.
