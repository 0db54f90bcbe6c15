<?php
// PHP's SoapClient as its users call it: built from the service's ?wsdl, the SOAP version
// asked for, with the documented `compression` option when --compression=… is given:
//   accept   SOAP_COMPRESSION_ACCEPT | SOAP_COMPRESSION_GZIP: compressed answers accepted,
//            requests sent plain (PHP compresses a request only when a level is given);
//   gzip     the same with level 5: requests sent with Content-Encoding: gzip;
//   deflate  SOAP_COMPRESSION_DEFLATE, level 5: Content-Encoding: deflate.
// Faults read from SoapFault->detail.
// Usage: php php_client.php [--compression=KIND] WSDL VERSION NUMERO … (see scenario.py).

$args = array_slice($argv, 1);
$compression = null;
if (str_starts_with($args[0], '--compression=')) {
    $compression = [
        'accept' => SOAP_COMPRESSION_ACCEPT | SOAP_COMPRESSION_GZIP,
        'gzip' => SOAP_COMPRESSION_ACCEPT | SOAP_COMPRESSION_GZIP | 5,
        'deflate' => SOAP_COMPRESSION_ACCEPT | SOAP_COMPRESSION_DEFLATE | 5,
    ][substr(array_shift($args), strlen('--compression='))];
}
[$wsdl, $version, $numero, $code, $spaced, $unknown, $locked, $lockedCode, $birth,
 $wrongCode, $wrongBirth] = $args;

$options = [
    'soap_version' => $version === '1.2' ? SOAP_1_2 : SOAP_1_1,
    'cache_wsdl' => WSDL_CACHE_NONE,
    'exceptions' => true,
    'connection_timeout' => 20,
    // One category comes back as an array all the same, as clients of lists set it.
    'features' => SOAP_SINGLE_ELEMENT_ARRAYS,
];
if ($compression !== null) {
    $options['compression'] = $compression;
}
$client = new SoapClient($wsdl, $options);

function solde($answer) {
    return ['numeroDossier' => $answer->numeroDossier, 'solde' => $answer->solde,
            'etatPermis' => $answer->etatPermis];
}

function releve($answer) {
    $categories = [];
    foreach ($answer->categories->categorie ?? [] as $categorie) {
        $categories[] = $categorie->code;
    }
    return ['numeroDossier' => $answer->numeroDossier, 'nom' => $answer->titulaire->nom,
            'dateNaissance' => $answer->titulaire->dateNaissance, 'categories' => $categories];
}

function demande($answer) {
    return ['demandeEnregistree' => $answer->demandeEnregistree];
}

function call($client, $step, $operation, $read, $parameters) {
    try {
        $line = ['answer' => $read($client->$operation($parameters))];
    } catch (SoapFault $fault) {
        $detail = $fault->detail->ErreurTelepoints ?? null;
        if ($detail === null) {
            $line = ['error' => "SoapFault {$fault->faultcode}: {$fault->getMessage()}"];
        } else {
            $line = ['fault' => ['code' => $detail->code, 'message' => $detail->message,
                                 'dateDeblocage' => $detail->dateDeblocage ?? null]];
        }
    } catch (Throwable $error) {
        $line = ['error' => get_class($error) . ': ' . $error->getMessage()];
    }
    echo json_encode(['step' => $step] + $line, JSON_UNESCAPED_UNICODE), "\n";
    return $line;
}

foreach ([['solde', 'ConsulterSolde', 'solde'],
          ['releve', 'ConsulterReleveRestreint', 'releve']] as [$prefix, $operation, $read]) {
    call($client, $prefix, $operation, $read,
         ['numeroDossier' => $numero, 'codeConfidentiel' => $code]);
    call($client, "{$prefix}_espaces", $operation, $read,
         ['numeroDossier' => $spaced, 'codeConfidentiel' => $code]);
    call($client, "{$prefix}_mauvais_code", $operation, $read,
         ['numeroDossier' => $numero, 'codeConfidentiel' => $wrongCode]);
    call($client, "{$prefix}_dossier_inconnu", $operation, $read,
         ['numeroDossier' => $unknown, 'codeConfidentiel' => $code]);
}
foreach ([['demande', $numero, $birth], ['demande_espaces', $spaced, $birth],
          ['demande_mauvaise_date', $numero, $wrongBirth],
          ['demande_dossier_inconnu', $unknown, $birth]] as [$step, $file, $date]) {
    call($client, $step, 'DemanderCodeConfidentiel', 'demande',
         ['numeroDossier' => $file, 'dateNaissance' => $date]);
}
for ($attempt = 1; $attempt <= 10; $attempt++) {
    $line = call($client, "blocage_$attempt", 'ConsulterSolde', 'solde',
                 ['numeroDossier' => $locked, 'codeConfidentiel' => $wrongCode]);
    if (($line['fault']['code'] ?? null) !== 'IDENTIFIANTS_INVALIDES') {
        break;
    }
}
call($client, 'blocage_bon_code', 'ConsulterReleveRestreint', 'releve',
     ['numeroDossier' => $locked, 'codeConfidentiel' => $lockedCode]);
