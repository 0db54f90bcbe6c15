# The typemap snippet a SOAP::WSDL client of this contract gives `wsdl2perl -mi=FILE`
# (SOAP::WSDL::Manual, "Adding missing information"), with the class TelepointsFaultDetail
# (perl/TelepointsFaultDetail.pm) on @INC. wsdl2perl types what the portType's messages
# carry, at the paths they take in a Body: neither the elements inside a fault's <detail>
# (SOAP::WSDL's WS-I notes, R1002: "only works when the fault detail elements are added to
# the deserializer's typemap") nor AvisMigration, a header the binding adds to every
# output; the generated client's parser, strict by default, dies on an element it cannot
# type ("Cannot resolve class for AvisMigration", "… for Fault/detail/ErreurTelepoints").
(
    'Fault/detail' => 'TelepointsFaultDetail',
    'Fault/detail/ErreurTelepoints' => 'MyElements::ErreurTelepoints',
    'Fault/detail/ErreurTelepoints/code' => 'MyTypes::CodeErreur',
    'Fault/detail/ErreurTelepoints/message' => 'SOAP::WSDL::XSD::Typelib::Builtin::string',
    'Fault/detail/ErreurTelepoints/dateDeblocage' => 'SOAP::WSDL::XSD::Typelib::Builtin::dateTime',
    'AvisMigration' => 'MyElements::AvisMigration',
    'AvisMigration/message' => 'SOAP::WSDL::XSD::Typelib::Builtin::string',
    'AvisMigration/urlNouveauService' => 'SOAP::WSDL::XSD::Typelib::Builtin::anyURI',
    'AvisMigration/dateFinService' => 'SOAP::WSDL::XSD::Typelib::Builtin::date',
);
