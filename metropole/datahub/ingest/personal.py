"""The personal-data guard: columns that look like they hold personal data, by their
header and by their content.

A flagged column of a public dataset blocks publication until a reviewer removes it
(it is dropped from the table and never loaded again) or confirms it is not personal
(e.g. the address of a town hall, the phone number of a library).
"""

import re
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from .types import normalise_header

# Content patterns (RE2, matched on trimmed values).
CONTENT = {
    "email": r"^[A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$",
    "phone": r"^(\+33 ?|0033 ?|0)[1-9]([ .-]?[0-9]{2}){4}$",
    # NIR: sex, year, month, département (2A/2B), commune, order number, optional key.
    "nir": (
        r"^[12] ?[0-9]{2} ?(0[1-9]|1[0-2]|[2-9][0-9]) ?([0-9]{2}|2[AB]) ?[0-9]{3} ?[0-9]{3}"
        r"( ?[0-9]{2})?$"
    ),
    "iban": r"^FR[0-9]{2} ?([0-9A-Z]{4} ?){5}[0-9A-Z]{3}$",
    # "12 rue des Lilas", "3 bis, avenue Foch": a numbered street address.
    "address": (
        r"(?i)^[0-9]{1,4} ?(bis|ter|quater|[a-d])?,? (rue|avenue|av\.?|boulevard|bd|chemin|"
        r"allée|allee|impasse|place|route|quai|cours|square|résidence|residence|rés|lotissement|"
        r"hameau|sentier|voie|passage|cité|cite) .+"
    ),
    # "Jean Dupont", "DUPONT Jean", "Marie-Claire Martin": two or three capitalised words.
    "person_name": (
        r"^(\p{Lu}[\p{Ll}'-]+|\p{Lu}{2,}(-\p{Lu}+)?)( \p{Lu}[\p{Ll}'-]+| \p{Lu}{2,}(-\p{Lu}+)?)"
        r"{1,2}$"
    ),
}
# Header words (normalised: ASCII, lower case, underscores).
HEADER = {
    "email": r"(^|_)(e_?mail|courriel|mail|adresse_electronique)($|_)",
    "phone": r"(^|_)(tel|telephone|phone|portable|mobile|gsm|fax)($|_)",
    "nir": r"(^|_)(nir|secu|securite_sociale|insee_personne|num_ss|ssn)($|_)",
    "iban": r"(^|_)(iban|rib|bic)($|_)",
    "address": r"(^|_)(adresse|address|domicile|residence|adr|rue)($|_)",
    "person_name": (
        r"(^|_)(nom|prenom|prenoms|name|first_?name|last_?name|surname|given_?name|"
        r"family_?name|nom_naissance|patronyme|usager|patient|eleve|demandeur|beneficiaire|"
        r"signataire|auteur|author)($|_)"
    ),
    "birth": r"(^|_)(date_?de_?naissance|naissance|birth|dob|ne_le|age)($|_)",
}
# Headers that name places or organisations, not persons: "nom de la commune".
NOT_PERSON = re.compile(
    r"(commune|ville|rue|voie|lieu|site|station|arret|etablissement|equipement|structure|"
    r"organisme|societe|entreprise|raison_sociale|association|parc|ecole|service|region|"
    r"departement|pays|espece|produit|ligne|quartier|batiment|salle|musee|zone|projet|"
    r"dataset|jeu|fichier|colonne|champ|ep?ci|territoire|metropole|usage)"
)
PLACES = (
    r"(?i)^(parc|jardin|square|rue|avenue|boulevard|place|mairie|hôtel|hotel|école|ecole|"
    r"collège|college|lycée|lycee|musée|musee|gare|église|eglise|stade|piscine|salle|"
    r"centre|maison|médiathèque|mediatheque|bibliothèque|bibliotheque|théâtre|theatre|"
    r"port|pont|bois|forêt|foret|quai|chemin|allée|allee|cimetière|cimetiere|marché|"
    r"marche|halle|citadelle|porte|tour|château|chateau|domaine|résidence|residence|"
    r"quartier|zone|parking|station|arrêt|arret|espace|cité|cite|saint|sainte|mont|"
    r"lac|canal|île|ile|val|grand|grande|petit|petite|le|la|les|l')\b"
)
# Names of persons and street addresses are common in public data (a street, a park,
# a town hall's address): they are flagged only when the header says so too.
NEEDS_HEADER = {"person_name", "address"}
KIND_LABELS = {
    "email": gettext_noop("e-mail addresses"),
    "phone": gettext_noop("phone numbers"),
    "nir": gettext_noop("social security numbers (NIR)"),
    "iban": gettext_noop("bank account numbers"),
    "address": gettext_noop("street addresses"),
    "person_name": gettext_noop("names of persons"),
    "birth": gettext_noop("birth dates or ages"),
}
CONTENT_SHARE = 0.3  # flagged when at least this share of the sampled values match
SAMPLE_VALUES = 5_000


@dataclass
class PersonalScan:
    """Counts of content matches per column over the first SAMPLE_VALUES values."""

    name: str
    seen: int = 0
    matches: dict = field(default_factory=dict)

    def feed(self, values: pa.Array) -> None:
        if self.seen >= SAMPLE_VALUES:
            return
        present = values.drop_null()[: SAMPLE_VALUES - self.seen]
        # Personal values are short: long texts are cut before the patterns run.
        present = pc.utf8_slice_codeunits(present, 0, 120)
        if len(present) == 0:
            return
        self.seen += len(present)
        for kind, pattern in CONTENT.items():
            matches = pc.match_substring_regex(present, pattern)
            if kind == "person_name":  # "Parc Barbieux", "Rue Nationale" are places
                matches = pc.and_(matches, pc.invert(pc.match_substring_regex(present, PLACES)))
            hits = pc.sum(matches).as_py() or 0
            if hits:
                self.matches[kind] = self.matches.get(kind, 0) + hits

    def verdict(self) -> dict:
        """{"flagged": bool, "kinds": [...], "reasons": [...]} for the column.

        E-mails, phones, NIR and IBAN are flagged by header or by content; names of
        persons and street addresses only by both (streets and parks look like names)."""
        header = normalise_header(self.name)
        by_header = [
            kind
            for kind, pattern in HEADER.items()
            if re.search(pattern, header)
            and not (kind in NEEDS_HEADER and NOT_PERSON.search(header))
        ]
        shares = {k: hits / self.seen for k, hits in self.matches.items() if self.seen}
        by_content = [k for k, share in shares.items() if share >= CONTENT_SHARE]
        kinds = [
            k
            for k in dict.fromkeys([*by_header, *by_content])
            if k not in NEEDS_HEADER or (k in by_header and k in by_content)
        ]
        reasons = []
        for kind in kinds:
            if kind in by_header:
                reasons.append(
                    _("its name “%(name)s” suggests %(what)s")
                    % {"name": self.name, "what": _(KIND_LABELS[kind])}
                )
            if kind in by_content:
                reasons.append(
                    _("%(percent)d%% of its values look like %(what)s")
                    % {"percent": round(100 * shares[kind]), "what": _(KIND_LABELS[kind])}
                )
        return {"flagged": bool(kinds), "kinds": kinds, "reasons": reasons}
