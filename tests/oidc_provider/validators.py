"""Claims of the test provider, shaped like the real ones.

- Each claim is released by its own scope, as FranceConnect and ProConnect do (`email`,
  `given_name`, `family_name`, `usual_name`), or by OpenID Connect's `profile` scope.
- The application named "franceconnect" gets every released claim in the ID token and a JSON
  userinfo with `email_verified: true`.
- The application named "proconnect" behaves like ProConnect: the ID token says only who
  (`sub`), the userinfo is a JWT signed with the provider's key, and there is no
  `email_verified` claim.
"""

import json
import time

from jwcrypto import jwt
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.settings import oauth2_settings

CLAIM_SCOPES = {
    "email": {"email"},
    "email_verified": {"email"},
    "given_name": {"given_name", "profile"},
    "family_name": {"family_name", "profile"},
    "usual_name": {"usual_name"},
}
PROCONNECT_LIKE = "proconnect"


class ClaimsValidator(OAuth2Validator):
    oidc_claim_scope = None

    def get_additional_claims(self, request):
        user = request.user
        return {
            "email": user.email,
            "email_verified": True,
            "given_name": user.first_name,
            "family_name": user.last_name,
            "usual_name": user.last_name,
        }

    def get_oidc_claims(self, token, token_handler, request):
        granted = set(request.scopes)
        claims = {"sub": str(request.user.pk)}
        for name, value in self.get_additional_claims(request).items():
            if CLAIM_SCOPES[name] & granted:
                claims[name] = value
        if request.client.name == PROCONNECT_LIKE:
            claims.pop("email_verified", None)
        return claims

    def get_id_token_dictionary(self, token, token_handler, request):
        claims, expiration_time = super().get_id_token_dictionary(token, token_handler, request)
        if request.client.name == PROCONNECT_LIKE:
            for name in CLAIM_SCOPES:
                claims.pop(name, None)
        return claims, expiration_time

    def get_userinfo_claims(self, request):
        claims = super().get_userinfo_claims(request)
        if request.client.name != PROCONNECT_LIKE:
            return claims
        now = int(time.time())
        claims.update(
            iss=oauth2_settings.oidc_issuer(request),
            aud=request.client.client_id,
            iat=now,
            exp=now + 60,
        )
        key = request.client.jwk_key
        token = jwt.JWT(
            header=json.dumps({"typ": "JWT", "alg": "RS256", "kid": key.thumbprint()}),
            claims=json.dumps(claims),
        )
        token.make_signed_token(key)
        return token.serialize()
