"""The legacy SOAP endpoint, contract first: the checked-in WSDL is served as it is and its XSD
validates every request before any business code runs."""
