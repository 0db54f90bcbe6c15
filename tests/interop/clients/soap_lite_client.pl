#!/usr/bin/perl
# SOAP::Lite as its users call a document/literal service: SOAP::Lite's own WSDL reader
# (SOAP::Schema) gives each operation's address, SOAPAction and namespace from the service's
# ?wsdl (SOAP::Lite->service() stubs are for RPC/encoded services: for this contract they
# send a body no schema allows); then `call` with named SOAP::Data parameters, autotype on
# as by default (every parameter gets an xsi:type) and the envelope's encodingStyle SOAP::Lite
# always writes. Faults read from the SOM's faultdetail. SOAP 1.1, SOAP::Lite's default.
# Usage: perl soap_lite_client.pl WSDL VERSION NUMERO … (see scenario.py).
use strict;
use warnings;
use JSON::PP;
use SOAP::Lite;

my ($wsdl, $version, $numero, $code, $spaced, $unknown, $locked, $locked_code, $birth,
    $wrong_code, $wrong_birth) = @ARGV;
die "SOAP::Lite is called here as its users call it: SOAP 1.1\n" unless $version eq '1.1';

my $schema = SOAP::Schema->new(schema_url => $wsdl);
$schema->parse;
my ($operations) = values %{$schema->services};
my $json = JSON::PP->new->utf8->canonical;
$| = 1;

sub call {
    my ($step, $operation, $read, %parameters) = @_;
    my $description = $operations->{$operation};
    my $action = $description->{soapaction}->value;
    my $client = SOAP::Lite->proxy($description->{endpoint}->value, timeout => 20)
        ->default_ns($description->{namespace})
        ->on_action(sub { qq("$action") });
    my @order = $operation eq 'DemanderCodeConfidentiel'
        ? qw(numeroDossier dateNaissance) : qw(numeroDossier codeConfidentiel);
    my %line;
    my $som = eval {
        $client->call($operation => map { SOAP::Data->name($_)->value($parameters{$_}) } @order);
    };
    if (!$som) {
        %line = (error => "no answer: " . ($@ || 'undefined'));
    } elsif ($som->fault) {
        my $detail = ref $som->faultdetail eq 'HASH' ? $som->faultdetail->{ErreurTelepoints} : undef;
        %line = $detail
            ? (fault => {code => $detail->{code}, message => $detail->{message},
                         dateDeblocage => $detail->{dateDeblocage}})
            : (error => "fault without ErreurTelepoints: " . $som->faultcode . ' '
                        . $som->faultstring);
    } else {
        %line = (answer => $read->($som));
    }
    print $json->encode({step => $step, %line}), "\n";
    return \%line;
}

sub solde {
    my ($som) = @_;
    my $answer = $som->valueof('//ConsulterSoldeReponse');
    return {numeroDossier => $answer->{numeroDossier}, solde => 0 + $answer->{solde},
            etatPermis => $answer->{etatPermis}};
}

sub releve {
    my ($som) = @_;
    my $answer = $som->valueof('//ConsulterReleveRestreintReponse');
    return {numeroDossier => $answer->{numeroDossier}, nom => $answer->{titulaire}{nom},
            dateNaissance => $answer->{titulaire}{dateNaissance},
            categories => [map { $_->{code} } $som->valueof(
                '//ConsulterReleveRestreintReponse/categories/categorie')]};
}

sub demande {
    my ($som) = @_;
    my $registered = $som->valueof('//DemanderCodeConfidentielReponse/demandeEnregistree');
    return {demandeEnregistree => $registered eq 'true' ? JSON::PP::true : JSON::PP::false};
}

for my $operation (['solde', 'ConsulterSolde', \&solde],
                   ['releve', 'ConsulterReleveRestreint', \&releve]) {
    my ($prefix, $name, $read) = @$operation;
    call($prefix, $name, $read, numeroDossier => $numero, codeConfidentiel => $code);
    call("${prefix}_espaces", $name, $read, numeroDossier => $spaced, codeConfidentiel => $code);
    call("${prefix}_mauvais_code", $name, $read, numeroDossier => $numero,
         codeConfidentiel => $wrong_code);
    call("${prefix}_dossier_inconnu", $name, $read, numeroDossier => $unknown,
         codeConfidentiel => $code);
}
for my $step (['demande', $numero, $birth], ['demande_espaces', $spaced, $birth],
              ['demande_mauvaise_date', $numero, $wrong_birth],
              ['demande_dossier_inconnu', $unknown, $birth]) {
    my ($name, $file, $date) = @$step;
    call($name, 'DemanderCodeConfidentiel', \&demande, numeroDossier => $file,
         dateNaissance => $date);
}
for my $attempt (1 .. 10) {
    my $line = call("blocage_$attempt", 'ConsulterSolde', \&solde, numeroDossier => $locked,
                    codeConfidentiel => $wrong_code);
    last unless (($line->{fault} // {})->{code} // '') eq 'IDENTIFIANTS_INVALIDES';
}
call('blocage_bon_code', 'ConsulterReleveRestreint', \&releve, numeroDossier => $locked,
     codeConfidentiel => $locked_code);
