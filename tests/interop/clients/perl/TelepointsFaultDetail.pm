# The <detail> of the contract's faults, for SOAP::WSDL: the hand-written type class its
# manual asks for when a fault's detail holds elements ("Adding missing information"),
# named in the typemap snippet soap_wsdl_typemap.pl. One element: ErreurTelepoints.
package TelepointsFaultDetail;
use strict;
use warnings;
use MyElements::ErreurTelepoints;
use Class::Std::Fast::Storable constructor => 'none';
use base qw(SOAP::WSDL::XSD::Typelib::ComplexType);

sub get_xmlns { 'http://schemas.xmlsoap.org/soap/envelope/' }

Class::Std::initialize();
{
    my %ErreurTelepoints_of :ATTR(:get<ErreurTelepoints>);
    __PACKAGE__->_factory(
        [qw(ErreurTelepoints)],
        {ErreurTelepoints => \%ErreurTelepoints_of},
        {ErreurTelepoints => 'MyElements::ErreurTelepoints'},
        {ErreurTelepoints => 'ErreurTelepoints'},
    );
}

1;
