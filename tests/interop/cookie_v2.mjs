// An independent implementation of the two cookie generations of Curity's token handler, in Node's own
// crypto and nothing else: no code of this project's and none of Curity's. tests/test_cookie_generations.py
// runs it against oauth_proxy both ways.
//
//   v1: base64url_nopad(0x01 || iv[12] || AES-256-GCM ciphertext || tag[16])
//   v2: base64url_nopad(iv[12] || AES-256-GCM ciphertext || tag[16])      (no version byte)
//
// Reads one JSON request on stdin, writes one JSON answer on stdout:
//   {"op": "encrypt", "format": "v1"|"v2", "key": "<64 hex>", "items": ["plaintext", ...]}  -> ["cookie", ...]
//   {"op": "decrypt", "format": "v1"|"v2", "key": "<64 hex>", "items": ["cookie", ...]}     -> ["plaintext" | null, ...]
// A cookie that is not valid for that generation and key decrypts to null.
import crypto from 'node:crypto'

const IV = 12
const TAG = 16
const HEADER = {v1: Buffer.from([1]), v2: Buffer.alloc(0)}

function strictBase64url(text) {
    // Node's decoder skips characters outside the alphabet and accepts padding; a cookie must be exact, and the
    // one canonical encoding of its bytes.
    if (!/^[A-Za-z0-9_-]*$/.test(text)) return null
    const bytes = Buffer.from(text, 'base64url')
    return bytes.toString('base64url') === text ? bytes : null
}

function encrypt(format, key, plaintext) {
    const iv = crypto.randomBytes(IV)
    const cipher = crypto.createCipheriv('aes-256-gcm', key, iv)
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
    return Buffer.concat([HEADER[format], iv, body, cipher.getAuthTag()]).toString('base64url')
}

function decrypt(format, key, cookie) {
    const bytes = strictBase64url(cookie)
    const header = HEADER[format]
    if (bytes === null || bytes.length < header.length + IV + 1 + TAG) return null
    if (!bytes.subarray(0, header.length).equals(header)) return null
    const iv = bytes.subarray(header.length, header.length + IV)
    const body = bytes.subarray(header.length + IV, bytes.length - TAG)
    try {
        const decipher = crypto.createDecipheriv('aes-256-gcm', key, iv)
        decipher.setAuthTag(bytes.subarray(bytes.length - TAG))
        const plain = Buffer.concat([decipher.update(body), decipher.final()])
        return new TextDecoder('utf-8', {fatal: true}).decode(plain)
    } catch {
        return null
    }
}

const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
const request = JSON.parse(Buffer.concat(chunks).toString('utf8'))
if (!(request.format in HEADER) || !/^[0-9a-fA-F]{64}$/.test(request.key)) throw new Error('bad request')
const key = Buffer.from(request.key, 'hex')
const run = {encrypt, decrypt}[request.op]
process.stdout.write(JSON.stringify(request.items.map((item) => run(request.format, key, item))))
