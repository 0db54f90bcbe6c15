#!/usr/bin/perl
# SOAP::WSDL as its users call it: the classes `wsdl2perl -mi=soap_wsdl_typemap.pl` generates
# from the service's ?wsdl (on @INC, MyInterfaces::TelepointsService::TelepointsSoap11Port;
# SOAP::WSDL speaks SOAP 1.1 only), its proxy the address the served WSDL gives; a fault
# comes back as a false result (SOAP::WSDL::SOAP::Typelib::Fault11) whose detail holds
# MyElements::ErreurTelepoints (see the typemap snippet for why it is needed).
# Usage: perl -I GENERATED -I perl soap_wsdl_client.pl WSDL VERSION NUMERO … (scenario.py).
use strict;
use warnings;
use JSON::PP;
use Scalar::Util qw(blessed);
use MyInterfaces::TelepointsService::TelepointsSoap11Port;

my ($wsdl, $version, $numero, $code, $spaced, $unknown, $locked, $locked_code, $birth,
    $wrong_code, $wrong_birth) = @ARGV;
die "SOAP::WSDL speaks SOAP 1.1 only\n" unless $version eq '1.1';

my $service = MyInterfaces::TelepointsService::TelepointsSoap11Port->new();
my $json = JSON::PP->new->utf8->canonical;
$| = 1;

sub text { my ($value) = @_; return defined $value ? "$value" : undef }

sub call {
    my ($step, $operation, $read, $parameters) = @_;
    my %line;
    my $result = eval { $service->$operation($parameters) };
    if ($@) {
        %line = (error => "died: $@");
    } elsif ($result) {
        %line = (answer => $read->($result));
    } elsif (blessed($result) && $result->can('get_detail')) {
        my $detail = $result->get_detail;
        my $erreur = blessed($detail) && $detail->can('get_ErreurTelepoints')
            ? $detail->get_ErreurTelepoints : $detail;
        if (blessed($erreur) && $erreur->can('get_code')) {
            %line = (fault => {code => text($erreur->get_code), message => text($erreur->get_message),
                               dateDeblocage => text($erreur->get_dateDeblocage) || undef});
        } else {
            %line = (error => "fault without ErreurTelepoints: " . text($result->get_faultcode)
                              . ' ' . text($result->get_faultstring));
        }
    } else {
        %line = (error => "no answer: " . (defined $result ? "$result" : 'undef'));
    }
    print $json->encode({step => $step, %line}), "\n";
    return \%line;
}

sub solde {
    my ($answer) = @_;
    return {numeroDossier => text($answer->get_numeroDossier), solde => 0 + $answer->get_solde,
            etatPermis => text($answer->get_etatPermis)};
}

sub releve {
    my ($answer) = @_;
    my $titulaire = $answer->get_titulaire;
    my $categories = $answer->get_categories->get_categorie;
    $categories = [$categories] if blessed($categories);
    return {numeroDossier => text($answer->get_numeroDossier), nom => text($titulaire->get_nom),
            dateNaissance => substr(text($titulaire->get_dateNaissance), 0, 10),
            categories => [map { text($_->get_code) } @{$categories || []}]};
}

sub demande {
    my ($answer) = @_;
    # xs:boolean as its lexical value: true, false, 1 or 0
    my $registered = $answer->get_demandeEnregistree->get_value;
    return {demandeEnregistree => ($registered eq 'true' || $registered eq '1')
            ? JSON::PP::true : JSON::PP::false};
}

for my $operation (['solde', 'ConsulterSolde', \&solde],
                   ['releve', 'ConsulterReleveRestreint', \&releve]) {
    my ($prefix, $name, $read) = @$operation;
    call($prefix, $name, $read, {numeroDossier => $numero, codeConfidentiel => $code});
    call("${prefix}_espaces", $name, $read, {numeroDossier => $spaced, codeConfidentiel => $code});
    call("${prefix}_mauvais_code", $name, $read,
         {numeroDossier => $numero, codeConfidentiel => $wrong_code});
    call("${prefix}_dossier_inconnu", $name, $read,
         {numeroDossier => $unknown, codeConfidentiel => $code});
}
for my $step (['demande', $numero, $birth], ['demande_espaces', $spaced, $birth],
              ['demande_mauvaise_date', $numero, $wrong_birth],
              ['demande_dossier_inconnu', $unknown, $birth]) {
    my ($name, $file, $date) = @$step;
    call($name, 'DemanderCodeConfidentiel', \&demande,
         {numeroDossier => $file, dateNaissance => $date});
}
for my $attempt (1 .. 10) {
    my $line = call("blocage_$attempt", 'ConsulterSolde', \&solde,
                    {numeroDossier => $locked, codeConfidentiel => $wrong_code});
    last unless (($line->{fault} // {})->{code} // '') eq 'IDENTIFIANTS_INVALIDES';
}
call('blocage_bon_code', 'ConsulterReleveRestreint', \&releve,
     {numeroDossier => $locked, codeConfidentiel => $locked_code});
