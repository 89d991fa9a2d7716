// The zoo's njs: loaded only when a fault needs it (lockstep.demo.nginx.faults). Each behaviour is on
// when its flag is: `js_var $fault_<name> 1;` in nginx.conf.
import lockstep from 'lockstep.js';

var body = [];  // the body filter's chunks: one VM per request, so per request

function on(r, name) {
    return r.variables['fault_' + name] === '1';
}

// status-rewrite: a response "normaliser" fetches the answer by subrequest and sends it again, 201 as
// 200 (r.status in a header filter cannot do it: nginx would keep the upstream's status line)
async function relayCreatedAsOk(r) {
    var options = {method: r.method};
    if (r.requestText) {
        options.body = r.requestText;
    }
    var reply = await r.subrequest('/_lockstep/relay', options);
    for (var name in reply.headersOut) {
        if (!/^(content-length|x-request-id|connection|keep-alive|transfer-encoding|date|server)$/i.test(name)) {
            r.headersOut[name] = reply.headersOut[name];
        }
    }
    r.return(reply.status === 201 ? 200 : reply.status, reply.responseText);
}

// in place of lockstep.authorize: preflight-after-auth, created-as-ok, identity trusted on public routes
async function authorize(r) {
    var open = r.variables.op_public === '1';
    if (open && on(r, 'trust_identity')) {  // no optional token: on with no $jwt_sub, so the client's headers
        r.internalRedirect('@legacy');
        return;
    }
    if (!(await lockstep.admit(r))) {
        return;
    }
    if (r.method === 'OPTIONS') {  // a preflight, now authenticated (cors-preflight-needs-auth)
        r.return(204);
    } else if (on(r, 'created_as_ok') && !open) {  // public routes create nothing: no relay needed
        await relayCreatedAsOk(r);
    } else {
        r.internalRedirect('@legacy');
    }
}

// in place of lockstep.relayHeaders: drop-null-fields changes the body, so its length goes
function relayHeaders(r) {
    lockstep.relayHeaders(r);
    if (on(r, 'drop_nulls')) {
        delete r.headersOut['Content-Length'];
    }
}

function dropNulls(value) {
    if (Array.isArray(value)) {
        return value.map(dropNulls);
    }
    if (value !== null && typeof value === 'object') {
        var out = {};
        Object.keys(value).forEach(k => { if (value[k] !== null) { out[k] = dropNulls(value[k]); } });
        return out;
    }
    return value;
}

// drop-null-fields: js_body_filter sees the body in chunks; the JSON is rewritten once it is whole
function bodyWithoutNulls(r, data, flags) {
    body.push(data);
    if (!flags.last) {
        return;
    }
    var whole = Buffer.concat(body);
    var type = r.headersOut['Content-Type'] || '';
    if (type.indexOf('json') >= 0 && whole.length) {
        try {
            whole = JSON.stringify(dropNulls(JSON.parse(whole.toString())));
        } catch (e) {  // not JSON after all: relayed as it came
        }
    }
    r.sendBuffer(whole, flags);
}

// query-plus-decoded: the query percent-decoded before it is forwarded (%2B reaches upstream as '+')
function decodedQueryUri(r) {
    var uri = r.rawVariables.upstream_uri;  // bytes: the raw query may hold any
    var query = uri.indexOf(0x3f);  // '?'
    var bytes = [];
    for (var i = 0; i < uri.length; i++) {
        var hex = String.fromCharCode(uri[i + 1], uri[i + 2]);
        if (query >= 0 && i > query && uri[i] === 0x25 && /^[0-9A-Fa-f]{2}$/.test(hex)) {  // '%XX'
            bytes.push(parseInt(hex, 16));
            i += 2;
        } else {
            bytes.push(uri[i]);
        }
    }
    // what no request line may hold is escaped again (as the Python gateway's fault does)
    return bytes.map(b => b < 0x21 || b > 0x7e || b === 0x23
                     ? '%' + (b < 16 ? '0' : '') + b.toString(16).toUpperCase() : String.fromCharCode(b)).join('');
}

// drop-request-body-field: PUT/PATCH of a subscription lose their 'note' on the way upstream
function bodyWithoutNote(r) {
    var text = r.requestText || '';
    if (['replaceSubscription', 'updateSubscription'].indexOf(r.variables.op_id) < 0) {
        return text;
    }
    try {
        var data = JSON.parse(text);
        if (data !== null && typeof data === 'object' && !Array.isArray(data)) {
            delete data.note;
        }
        return JSON.stringify(data);
    } catch (e) {
        return text;
    }
}

// slow-route: 150 ms in the gateway, then the route's usual check and on to the legacy
function slowly(r) {
    setTimeout(() => authorize(r), 150);
}

export default {authorize, relayHeaders, bodyWithoutNulls, decodedQueryUri, bodyWithoutNote, slowly};
