// A .NET web-reference client as its users write it: the SoapHttpClientProtocol proxy that
// `wsdl` generates from the service's ?wsdl (`/protocol:SOAP12` for SOAP 1.2), its Url the
// address the served WSDL gives; faults read from SoapException.Detail.
// Usage: mono client.exe WSDL VERSION NUMERO … (see scenario.py).

using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using System.Web.Services.Protocols;
using System.Xml;

public static class MonoClient {
    const string Tns = "urn:fr:interieur:telepoints:v1";
    static TelepointsService service;

    public static int Main(string[] args) {
        string numero = args[2], code = args[3], spaced = args[4], unknown = args[5],
            locked = args[6], lockedCode = args[7], birth = args[8], wrongCode = args[9],
            wrongBirth = args[10];
        service = new TelepointsService();
        service.Timeout = 20000;
        string[][] identifiants = {
            new[] {"", numero, code}, new[] {"_espaces", spaced, code},
            new[] {"_mauvais_code", numero, wrongCode}, new[] {"_dossier_inconnu", unknown, code}};
        foreach (var step in identifiants) {
            Call("solde" + step[0], () => Solde(step[1], step[2]));
        }
        foreach (var step in identifiants) {
            Call("releve" + step[0], () => Releve(step[1], step[2]));
        }
        string[][] demandes = {
            new[] {"", numero, birth}, new[] {"_espaces", spaced, birth},
            new[] {"_mauvaise_date", numero, wrongBirth}, new[] {"_dossier_inconnu", unknown, birth}};
        foreach (var step in demandes) {
            Call("demande" + step[0], () => Demande(step[1], step[2]));
        }
        for (int attempt = 1; attempt <= 10; attempt++) {
            var line = Call("blocage_" + attempt, () => Solde(locked, wrongCode));
            var fault = line.ContainsKey("fault") ? (Dictionary<string, object>) line["fault"] : null;
            if (fault == null || (string) fault["code"] != "IDENTIFIANTS_INVALIDES") {
                break;
            }
        }
        Call("blocage_bon_code", () => Releve(locked, lockedCode));
        return 0;
    }

    static Dictionary<string, object> Solde(string numero, string code) {
        string numeroDossier = numero;
        EtatPermis etat;
        bool probatoire, finSpecified;
        DateTime fin, miseAJour;
        int solde = service.ConsulterSolde(ref numeroDossier, code, out etat, out probatoire,
                                           out fin, out finSpecified, out miseAJour);
        return new Dictionary<string, object> {
            {"numeroDossier", numeroDossier}, {"solde", solde}, {"etatPermis", etat.ToString()}};
    }

    static Dictionary<string, object> Releve(string numero, string code) {
        string numeroDossier = numero;
        EtatPermis etat;
        bool suspendus;
        ConsulterReleveRestreintReponseSuspension suspension;
        ConsulterReleveRestreintReponseCategorie[] categories;
        DateTime edition;
        var titulaire = service.ConsulterReleveRestreint(
            ref numeroDossier, code, out etat, out suspendus, out suspension, out categories,
            out edition);
        var codes = new List<object>();
        foreach (var categorie in categories ?? new ConsulterReleveRestreintReponseCategorie[0]) {
            codes.Add(categorie.code.ToString());
        }
        return new Dictionary<string, object> {
            {"numeroDossier", numeroDossier}, {"nom", titulaire.nom},
            {"dateNaissance", titulaire.dateNaissance.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)},
            {"categories", codes}};
    }

    static Dictionary<string, object> Demande(string numero, string birth) {
        string message;
        bool registered = service.DemanderCodeConfidentiel(
            numero, DateTime.ParseExact(birth, "yyyy-MM-dd", CultureInfo.InvariantCulture),
            out message);
        return new Dictionary<string, object> {{"demandeEnregistree", registered}};
    }

    static Dictionary<string, object> Call(string step, Func<Dictionary<string, object>> call) {
        var line = new Dictionary<string, object> {{"step", step}};
        try {
            line["answer"] = call();
        } catch (SoapException fault) {
            var names = new XmlNamespaceManager(new NameTable());
            names.AddNamespace("t", Tns);
            var detail = fault.Detail == null ? null
                : fault.Detail.SelectSingleNode("descendant-or-self::t:ErreurTelepoints", names);
            if (detail == null) {
                line["error"] = "SoapException " + fault.Code + " without ErreurTelepoints: "
                    + fault.Message;
            } else {
                var until = detail.SelectSingleNode("t:dateDeblocage", names);
                line["fault"] = new Dictionary<string, object> {
                    {"code", detail.SelectSingleNode("t:code", names)?.InnerText},
                    {"message", detail.SelectSingleNode("t:message", names)?.InnerText},
                    {"dateDeblocage", until?.InnerText}};
            }
        } catch (Exception error) {
            line["error"] = error.GetType().FullName + ": " + error.Message;
        }
        Console.WriteLine(Json(line));
        return line;
    }

    static string Json(object value) {
        if (value == null) return "null";
        if (value is bool) return (bool) value ? "true" : "false";
        if (value is int) return ((int) value).ToString(CultureInfo.InvariantCulture);
        var text = new StringBuilder();
        if (value is Dictionary<string, object>) {
            text.Append('{');
            foreach (var entry in (Dictionary<string, object>) value) {
                if (text.Length > 1) text.Append(", ");
                text.Append(Json(entry.Key)).Append(": ").Append(Json(entry.Value));
            }
            return text.Append('}').ToString();
        }
        if (value is IList) {
            text.Append('[');
            foreach (var item in (IList) value) {
                if (text.Length > 1) text.Append(", ");
                text.Append(Json(item));
            }
            return text.Append(']').ToString();
        }
        text.Append('"');
        foreach (char c in value.ToString()) {
            if (c == '"' || c == '\\') text.Append('\\').Append(c);
            else if (c < 0x20) text.AppendFormat("\\u{0:x4}", (int) c);
            else text.Append(c);
        }
        return text.Append('"').ToString();
    }
}
