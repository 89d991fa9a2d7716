// The demo gateway's njs (0.7.9): JWT checks, the gateway's own JSON errors, Link re-basing.
// Loaded by the generated nginx.conf; the nginx variables it reads are set there ($op_*, $jwt_*).
// Where nginx semantics bite:
// - js_set cannot wait for a Promise, and WebCrypto only returns Promises: the check runs in js_content,
//   which then hands the request to @legacy with r.internalRedirect (a js_var, $jwt_sub, survives it).
// - Each request runs in a fresh copy of the VM: nothing caches across requests here; the JWKS is
//   read by subrequest from a location nginx itself caches.
// - njs 0.7.9's importKey takes no 'jwk' for RSA: a JWK becomes an SPKI (DER) first.

const RSA = {name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256'};
const B64URL = /^[A-Za-z0-9_-]*$/;
const RSA_OID = Buffer.from('300d06092a864886f70d0101010500', 'hex');  // rsaEncryption, NULL

function json(r, status, code, message, challenge) {
    r.headersOut['Content-Type'] = 'application/json';
    if (challenge) {
        r.headersOut['WWW-Authenticate'] = challenge;
    }
    var body = {error: {code: code, message: message, request_id: r.variables.gw_request_id}};
    r.return(status, JSON.stringify(body));
}

// RFC 6750 challenges: bare when no credential was given, with error= (and scope=) otherwise
function refuse(r, status, code, message, bare, scope) {
    var value = r.variables.jwt_realm + (bare ? '' : ', error="' + code + '"');
    if (scope) {
        value += ', scope="' + scope + '"';
    }
    json(r, status, code, message, value);
}

// No route: the path is percent-decoded bytes; the legacy shows invalid UTF-8 as U+FFFD, so do we
function notFound(r) {
    var inner = r.rawVariables.inner_path;
    var path = inner && inner.length ? inner : r.rawVariables.uri;
    json(r, 404, 'not_found', 'no route for ' + new TextDecoder().decode(path));
}

// nginx refuses TRACE before any location runs (its own HTML 405): answered like a routed 405 instead
function methodNotAllowed(r) {
    if (!r.variables.uri_route) {
        notFound(r);
        return;
    }
    r.headersOut.Allow = r.variables.uri_route_allow;
    json(r, 405, 'method_not_allowed', r.method + ' is not allowed on ' + r.variables.uri_route_template);
}

// null: not a Bearer credential; '': malformed; else the token (the scheme is case-insensitive)
function bearerToken(value) {
    var space = value.indexOf(' ');
    var scheme = space < 0 ? value : value.slice(0, space);
    if (scheme.toLowerCase() !== 'bearer') {
        return null;
    }
    var token = (space < 0 ? '' : value.slice(space + 1)).replace(/^ +| +$/g, '');
    return !token || /\s/.test(token) ? '' : token;
}

function segment(text) {
    if (!B64URL.test(text)) {
        return null;
    }
    var value = JSON.parse(Buffer.from(text, 'base64url').toString());
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : null;
}

function der(tag, bytes) {
    var n = bytes.length;
    var length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
    return Buffer.concat([Buffer.from([tag].concat(length)), bytes]);
}

function derInteger(bytes) {
    return der(0x02, bytes[0] & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
}

function spki(jwk) {
    var key = der(0x30, Buffer.concat([derInteger(Buffer.from(jwk.n, 'base64url')),
                                       derInteger(Buffer.from(jwk.e, 'base64url'))]));
    return der(0x30, Buffer.concat([RSA_OID, der(0x03, Buffer.concat([Buffer.from([0]), key]))]));
}

async function publicKey(r, kid) {
    var reply = await r.subrequest('/_lockstep/jwks');
    if (reply.status !== 200) {
        return null;
    }
    var keys = JSON.parse(reply.responseText).keys;
    var jwk = (Array.isArray(keys) ? keys : []).find(k => k && k.kty === 'RSA' && k.kid === kid);
    if (!jwk || typeof jwk.n !== 'string' || typeof jwk.e !== 'string') {
        return null;
    }
    return crypto.subtle.importKey('spki', spki(jwk), RSA, false, ['verify']);
}

// Python's int() of a JSON value (what the Python gateway's checks apply), NaN where it would raise
function int(value) {
    if (typeof value === 'number') {
        return isFinite(value) ? Math.trunc(value) : NaN;
    }
    if (typeof value === 'boolean') {
        return value ? 1 : 0;
    }
    return typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value) ? parseInt(value, 10) : NaN;
}

function validClaims(r, c) {
    var now = Date.now() / 1000;
    var leeway = Number(r.variables.jwt_leeway);
    if (['exp', 'iss', 'aud', 'sub'].some(name => c[name] === undefined || c[name] === null)) {
        return false;
    }
    if (c.iat !== undefined && !(int(c.iat) <= now + leeway)) {
        return false;
    }
    if (c.nbf !== undefined && !(int(c.nbf) <= now + leeway)) {
        return false;
    }
    if (!(int(c.exp) > now - leeway)) { return false; }  // expired (exp, with leeway)
    var aud = typeof c.aud === 'string' ? [c.aud] : c.aud;
    if (!Array.isArray(aud) || aud.some(a => typeof a !== 'string') || aud.indexOf(r.variables.jwt_audience) < 0) {
        return false;
    }
    if (c.iss !== r.variables.jwt_issuer || (c.jti !== undefined && typeof c.jti !== 'string')) {
        return false;
    }
    return typeof c.sub === 'string' && c.sub !== '';
}

async function verifiedClaims(r, token) {
    var parts = token.split('.');
    if (parts.length !== 3 || !B64URL.test(parts[2])) {
        return null;
    }
    var header = segment(parts[0]);
    var claims = segment(parts[1]);
    if (!header || !claims || header.crit !== undefined) {  // no critical extension is understood
        return null;
    }
    if (header.alg !== 'RS256' || typeof header.kid !== 'string') {  // none, HS256, RS512...: refused
        return null;
    }
    var key = await publicKey(r, header.kid);
    if (!key) {
        return null;
    }
    var signed = await crypto.subtle.verify(RSA, key, Buffer.from(parts[2], 'base64url'),
                                            Buffer.from(parts[0] + '.' + parts[1]));
    return signed && validClaims(r, claims) ? claims : null;
}

// The Authorization values, each apart (r.headersIn would join repeated ones)
function credentials(r) {
    return r.rawHeadersIn.filter(h => h[0].toLowerCase() === 'authorization').map(h => h[1]);
}

async function validClaimsOf(r, token) {
    try {
        return await verifiedClaims(r, token);
    } catch (e) {  // any malformed token or key is invalid, never a 500
        return null;
    }
}

// A public operation: the token is optional. One valid bearer token names the caller ($jwt_sub, so
// @legacy sends it as X-User-Id); anything else (none, invalid, a token in the query too) is a guest,
// never refused. Two Authorization headers never get here: nginx itself refuses a repeated one (400).
async function admitGuestOrCaller(r) {
    var values = credentials(r);
    var token = values.length === 1 && r.args.access_token === undefined ? bearerToken(values[0]) : null;
    var claims = token ? await validClaimsOf(r, token) : null;
    if (claims) {
        r.variables.jwt_sub = claims.sub;
    }
    return true;
}

// true: the request may go on ($jwt_sub set when a token names the caller); false: it has been answered
async function admit(r) {
    if (r.variables.op_public === '1') {
        return admitGuestOrCaller(r);
    }
    var values = credentials(r);
    if (values.length > 1 || (values.length && r.args.access_token !== undefined)) {
        refuse(r, 400, 'invalid_request', 'more than one credential in the request');
        return false;
    }
    var token = values.length ? bearerToken(values[0]) : null;
    if (token === null) {
        refuse(r, 401, 'unauthorized', 'authentication required', true);
        return false;
    }
    if (!token) {
        refuse(r, 400, 'invalid_request', 'malformed Authorization header');
        return false;
    }
    var claims = await validClaimsOf(r, token);
    if (!claims) {
        refuse(r, 401, 'invalid_token', 'the access token is invalid or expired');
        return false;
    }
    var granted = typeof claims.scope === 'string' ? claims.scope.split(/\s+/) : [];
    var needed = r.variables.op_scopes ? r.variables.op_scopes.split(' ') : [];
    var missing = needed.filter(s => granted.indexOf(s) < 0);
    if (missing.length) {
        refuse(r, 403, 'insufficient_scope', 'the token lacks scope ' + missing.join(' '), false, needed.join(' '));
        return false;
    }
    r.variables.jwt_sub = claims.sub;
    return true;
}

async function authorize(r) {
    if (await admit(r)) {
        r.internalRedirect('@legacy');
    }
}

function rebase(url, from, to) {
    var under = url === from || url.startsWith(from + '/') || url.startsWith(from + '?');
    return under ? to + url.slice(from.length) : url;
}

// proxy_redirect re-bases Location; Link holds several URLs, which no nginx directive rewrites
function relayHeaders(r) {
    var link = r.headersOut.Link;
    if (link) {
        var from = r.variables.legacy_base;
        var to = r.variables.gw_public_base;
        r.headersOut.Link = link.replace(/<([^>]*)>/g, (m, url) => '<' + rebase(url, from, to) + '>');
    }
}

export default {admit, authorize, notFound, methodNotAllowed, relayHeaders, json};
