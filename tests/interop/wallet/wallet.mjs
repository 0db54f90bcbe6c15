// A holder's wallet made of libraries this project did not write: Animo's OpenID4VC clients
// (@openid4vc/openid4vci, @openid4vc/openid4vp), the OpenWallet Foundation's SD-JWT VC and
// status list libraries (@sd-jwt/*) and the DCQL engine (dcql). The tests drive it with one
// JSON object on stdin and read one JSON object on stdout:
//
//   receive  {offer, tx_code}              -> {credential, holder_key, claims, header, status}
//   status   {credential}                  -> {status}   (0 valid, 1 invalid)
//   present  {request, credential, holder_key, aud?, tamper?}
//                                          -> {http_status, body, disclosed, vp_token}
import { createHash, randomBytes } from 'node:crypto'
import { clientAuthenticationAnonymous } from '@openid4vc/oauth2'
import { Openid4vciClient } from '@openid4vc/openid4vci'
import { Openid4vpClient } from '@openid4vc/openid4vp'
import { setGlobalConfig } from '@openid4vc/utils'
import { ES256, digest, generateSalt } from '@sd-jwt/crypto-nodejs'
import { getListFromStatusListJWT } from '@sd-jwt/jwt-status-list'
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc'
import { DcqlQuery } from 'dcql'
import * as jose from 'jose'

// The service under test listens on http://127.0.0.1: allowed here only, never in a real wallet.
setGlobalConfig({ allowInsecureUrls: true })

const hash = (data, alg) => createHash(alg.replace('-', '').toLowerCase()).update(data).digest()

function callbacks (privateJwk) {
  return {
    hash,
    generateRandom: (n) => randomBytes(n),
    clientAuthentication: clientAuthenticationAnonymous(),
    fetch,
    signJwt: async (signer, { header, payload }) => {
      const key = await jose.importJWK(privateJwk, 'ES256')
      const jwt = await new jose.SignJWT(payload).setProtectedHeader(header).sign(key)
      return { jwt, signerJwk: publicOf(privateJwk) }
    },
    verifyJwt: async () => { throw new Error('signed requests are not expected here') }
  }
}

function publicOf (jwk) {
  const { d, ...pub } = jwk
  return pub
}

// The issuer's key, found as SD-JWT VC §5 says: /.well-known/jwt-vc-issuer of the `iss`.
async function issuerKey (iss, kid) {
  const url = new URL(iss)
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '')
  const res = await fetch(`${url.origin}/.well-known/jwt-vc-issuer${path}`)
  const meta = await res.json()
  if (meta.issuer !== iss) throw new Error(`jwt-vc-issuer names ${meta.issuer}, not ${iss}`)
  const key = meta.jwks.keys.find((k) => k.kid === kid)
  if (!key) throw new Error(`no published key ${kid}`)
  return key
}

function decodePart (part) {
  return JSON.parse(Buffer.from(part, 'base64url').toString())
}

async function sdjwt (credential, holderKey) {
  const [jwt] = credential.split('~')
  const header = decodePart(jwt.split('.')[0])
  const payload = decodePart(jwt.split('.')[1])
  const key = await issuerKey(payload.iss, header.kid)
  const verifier = await ES256.getVerifier(key)
  const statusLists = []
  const instance = new SDJwtVcInstance({
    hasher: digest,
    hashAlg: 'sha-256',
    saltGenerator: generateSalt,
    verifier,
    statusListFetcher: async (uri) => {
      const res = await fetch(uri, { headers: { Accept: 'application/statuslist+jwt' } })
      if (res.headers.get('content-type') !== 'application/statuslist+jwt') {
        throw new Error(`status list served as ${res.headers.get('content-type')}`)
      }
      const token = await res.text()
      statusLists.push({ uri, token })
      return token
    },
    statusValidator: async (status) => { if (status !== 0) throw new Error(`status ${status}`) },
    kbSigner: holderKey ? await ES256.getSigner(holderKey) : undefined,
    kbSignAlg: 'ES256',
    kbVerifier: async (data, sig, payload) => (await ES256.getVerifier(payload.cnf.jwk))(data, sig)
  })
  return { instance, header, payload, key, statusLists }
}

// Reads the status of the credential from its list, checking what the library leaves out:
// the list's signature by a published key, its typ, and that sub is the uri referenced.
async function readStatus (credential) {
  const { payload } = await sdjwt(credential)
  const { uri, idx } = payload.status.status_list
  const res = await fetch(uri, { headers: { Accept: 'application/statuslist+jwt' } })
  const token = await res.text()
  const header = decodePart(token.split('.')[0])
  const key = await issuerKey(payload.iss, header.kid)
  const { payload: list, protectedHeader } = await jose.jwtVerify(token, await jose.importJWK(key, 'ES256'))
  if (protectedHeader.typ !== 'statuslist+jwt') throw new Error(`status list typ ${protectedHeader.typ}`)
  if (list.sub !== uri) throw new Error('status list sub is not its uri')
  if (typeof list.ttl !== 'number') throw new Error('status list has no ttl')
  return { status: getListFromStatusListJWT(token).getStatus(idx), ttl: list.ttl, content_type: res.headers.get('content-type') }
}

async function receive ({ offer, tx_code: txCode }) {
  const { privateKey } = await jose.generateKeyPair('ES256', { extractable: true })
  const holderKey = await jose.exportJWK(privateKey)
  const client = new Openid4vciClient({ callbacks: callbacks(holderKey) })
  const credentialOffer = await client.resolveCredentialOffer(offer)
  const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer)
  if (issuerMetadata.originalDraftVersion !== 'V1') {
    throw new Error(`issuer metadata read as ${issuerMetadata.originalDraftVersion}, not 1.0`)
  }
  const configurationId = credentialOffer.credential_configuration_ids[0]
  const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
    credentialOffer, issuerMetadata, txCode
  })
  const { c_nonce: nonce } = await client.requestNonce({ issuerMetadata })
  const { jwt } = await client.createCredentialRequestJwtProof({
    issuerMetadata,
    credentialConfigurationId: configurationId,
    nonce,
    signer: { method: 'jwk', alg: 'ES256', publicJwk: publicOf(holderKey) }
  })
  const result = await client.retrieveCredentials({
    issuerMetadata,
    accessToken: accessTokenResponse.access_token,
    credentialConfigurationId: configurationId,
    proofs: { jwt: [jwt] }
  })
  const credential = result.credentialResponse.credentials[0].credential
  const { instance } = await sdjwt(credential, holderKey)
  // Signature, every digest, exp/nbf/iat, and the status (fetched, must be 0).
  const { payload, header } = await instance.verify(credential, { skewSeconds: 60 })
  if (!['dc+sd-jwt', 'vc+sd-jwt'].includes(header.typ)) throw new Error(`typ ${header.typ}`)
  const claims = await instance.getClaims(credential)
  return {
    credential,
    holder_key: holderKey,
    header,
    signed: payload,
    claims,
    status: await readStatus(credential),
    tx_code_description: credentialOffer.grants['urn:ietf:params:oauth:grant-type:pre-authorized_code'].tx_code
  }
}

// The presentation frame of a DCQL claims query: a path to an array discloses every element.
function frameFor (claims, paths) {
  const frame = {}
  for (const path of paths) {
    const [name] = path
    const value = claims[name]
    frame[name] = Array.isArray(value) ? Object.fromEntries(value.map((_, i) => [i, true])) : true
  }
  return frame
}

async function present ({ request, credential, holder_key: holderKey, aud, tamper }) {
  const vp = new Openid4vpClient({ callbacks: callbacks(holderKey) })
  const parsed = vp.parseOpenid4vpAuthorizationRequest({ authorizationRequest: request })
  const resolved = await vp.resolveOpenId4vpAuthorizationRequest({ authorizationRequestPayload: parsed.params })
  const payload = resolved.authorizationRequestPayload
  const query = DcqlQuery.parse(resolved.dcql.query)
  DcqlQuery.validate(query)
  const { instance, payload: signed } = await sdjwt(credential, holderKey)
  const claims = await instance.getClaims(credential)
  const match = DcqlQuery.query(query, [{
    credential_format: 'dc+sd-jwt', vct: signed.vct, claims, cryptographic_holder_binding: true
  }])
  if (!match.can_be_satisfied) throw new Error('the wallet cannot satisfy this request')
  const credentialQuery = query.credentials[0]
  const frame = frameFor(claims, credentialQuery.claims.map((c) => c.path))
  const kb = { iat: Math.floor(Date.now() / 1000), aud: aud ?? payload.client_id, nonce: payload.nonce }
  let presentation = await instance.present(credential, frame, { kb: { payload: kb } })
  if (tamper) presentation = await tampered(presentation, holderKey, kb)
  const disclosed = await instance.getClaims(presentation.split('~').slice(0, -1).join('~') + '~').catch(() => null)
  const { authorizationResponsePayload } = await vp.createOpenid4vpAuthorizationResponse({
    authorizationRequestPayload: payload,
    authorizationResponsePayload: { vp_token: { [credentialQuery.id]: [presentation] } }
  })
  const submitted = await vp.submitOpenid4vpAuthorizationResponse({ authorizationRequestPayload: payload, authorizationResponsePayload })
  const response = submitted.response
  return {
    http_status: response.status,
    body: await response.json(),
    disclosed,
    vp_token: JSON.stringify(authorizationResponsePayload.vp_token),
    response_uri: payload.response_uri,
    state: payload.state
  }
}

// The holder changes a disclosed value and signs a fresh key binding over the result: only
// the issuer's digests can tell.
async function tampered (presentation, holderKey, kb) {
  const parts = presentation.split('~')
  const disclosures = parts.slice(1, -1).map((d) => {
    const value = decodePart(d)
    if (value.length === 3 && value[1] === 'licence_status') value[2] = 'VALIDE-MODIFIE'
    if (value.length === 3 && value[1] === 'family_name') value[2] = 'AUTRE'
    return Buffer.from(JSON.stringify(value)).toString('base64url')
  })
  const body = [parts[0], ...disclosures].join('~') + '~'
  const sdHash = createHash('sha256').update(body).digest('base64url')
  const key = await jose.importJWK(holderKey, 'ES256')
  const kbJwt = await new jose.SignJWT({ ...kb, sd_hash: sdHash })
    .setProtectedHeader({ alg: 'ES256', typ: 'kb+jwt' }).sign(key)
  return body + kbJwt
}

const commands = { receive, present, status: ({ credential }) => readStatus(credential) }
const input = JSON.parse(await new Promise((resolve) => {
  let data = ''
  process.stdin.on('data', (chunk) => { data += chunk })
  process.stdin.on('end', () => resolve(data))
}))
try {
  process.stdout.write(JSON.stringify(await commands[process.argv[2]](input)))
} catch (error) {
  process.stdout.write(JSON.stringify({ error: String(error?.message ?? error), details: error?.errorResponse ?? error?.response?.status ?? null }))
  process.exitCode = 1
}
