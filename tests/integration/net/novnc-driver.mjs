// Drives Debian's Chromium (headless, through playwright-core) for
// test_novnc.py.  No browser is downloaded: executablePath is /usr/bin/chromium.
//
//   node novnc-driver.mjs NODE_DIR USER_DATA_DIR
//
// NODE_DIR holds node_modules/playwright-core (setup-node.sh).  Commands come
// on stdin, one per line; each is answered by detail lines ("# ...", "DATA ...")
// and then exactly one "OK" or "ERROR <message>" line:
//   open URL                  new page (1024x796 viewport); waits for noVNC's
//                             connect, securityfailure or disconnect event
//   type TEXT                 focuses noVNC's canvas and types TEXT
//   press KEY                 one key (playwright name, e.g. Enter)
//   click X Y                 left click at canvas pixel (X, Y)
//   refresh                   asks for a full (non-incremental) update
//   compare PPM TIMEOUT_MS [Y0]  waits for flips until the canvas equals the
//                             binary PPM (P6) from row Y0 down, or reports
//                             the differences
//   waitdrawn TIMEOUT_MS      waits for the first flip after connect
//   waitextkey TIMEOUT_MS     waits until noVNC uses QEMU extended key events
//   state                     "DATA {json}" with state, reason, name, flips, encodings
//   screenshot PATH           PNG of the page
//   close                     closes the page
//   quit
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

const [nodeDir, userDataDir] = process.argv.slice(2);
if (!nodeDir || !userDataDir) {
    console.error('usage: node novnc-driver.mjs NODE_DIR USER_DATA_DIR');
    process.exit(2);
}
const require = createRequire(path.join(path.resolve(nodeDir), 'package.json'));
const { chromium } = require('playwright-core');

const out = (line) => process.stdout.write(line + '\n');

const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.QVNC_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1024, height: 796 },
    args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
        '--force-color-profile=srgb',
    ],
});
let page = null;
out('READY');

function readPpm(file) {
    const buf = readFileSync(file);
    const fields = [];
    let pos = 0;
    while (fields.length < 4) {
        while (/\s/.test(String.fromCharCode(buf[pos]))) pos++;
        let start = pos;
        while (!/\s/.test(String.fromCharCode(buf[pos]))) pos++;
        fields.push(buf.subarray(start, pos).toString('latin1'));
    }
    pos++;
    if (fields[0] !== 'P6' || fields[3] !== '255') throw new Error(`${file}: not an 8-bit P6 PPM`);
    const width = Number(fields[1]), height = Number(fields[2]);
    return { width, height, rgb: buf.subarray(pos, pos + width * height * 3) };
}

function diff(want, got, y0) {
    if (want.width !== got.width || want.height !== got.height) {
        return { count: -1, text: `canvas ${got.width}x${got.height}, frame ${want.width}x${want.height}` };
    }
    let count = 0;
    const first = [];
    for (let i = y0 * want.width; i < want.width * want.height; i++) {
        const a = 3 * i;
        if (want.rgb[a] !== got.rgb[a] || want.rgb[a + 1] !== got.rgb[a + 1] || want.rgb[a + 2] !== got.rgb[a + 2]) {
            if (first.length < 5) {
                const hex = (b, o) => [b[o], b[o + 1], b[o + 2]].map((v) => v.toString(16).padStart(2, '0')).join('');
                first.push(`(${i % want.width},${Math.floor(i / want.width)}) want #${hex(want.rgb, a)} got #${hex(got.rgb, a)}`);
            }
            count++;
        }
    }
    return { count, text: `${count} of ${want.width * (want.height - y0)} pixels (rows ${y0}..) differ; first: ${first.join(', ')}` };
}

async function canvasPixels() {
    const p = await page.evaluate(() => window.qvncTest.pixels());
    return { width: p.width, height: p.height, rgb: Buffer.from(p.rgb, 'base64'), flips: p.flips };
}

async function state() {
    return page.evaluate(() => {
        const t = window.qvncTest;
        // What a stuck canvas needs explained: images still decoding
        // (renderQ), an update half received, or nothing arriving.
        return { state: t.state, reason: t.reason, name: t.name, flips: t.flips, encodings: t.encodings,
                 renderQ: t.rfb._display._renderQ.length, fbuRects: t.rfb._FBU.rects };
    });
}

const commands = {
    async open(arg) {
        if (page) await page.close();
        page = await context.newPage();
        page.on('console', (m) => out(`# console.${m.type()}: ${m.text()}`));
        page.on('pageerror', (e) => out(`# pageerror: ${e.message}`));
        await page.goto(arg);
        await page.waitForFunction(() => window.qvncTest && window.qvncTest.state !== 'connecting',
                                   null, { timeout: 20000 });
        const s = await state();
        out('DATA ' + JSON.stringify(s));
        if (s.state !== 'connected') throw new Error(`noVNC did not connect: ${s.state} (${s.reason})`);
    },
    async waitdrawn(arg) {
        const ms = Number(arg) || 20000;
        const ok = await page.evaluate((ms) => window.qvncTest.afterFlip(0, ms), ms);
        if (!ok) throw new Error(`no framebuffer update reached the canvas within ${ms} ms`);
    },
    async waitextkey(arg) {
        // noVNC sends QEMU extended key events only once the server's -258
        // acknowledgement has been decoded; keys typed before go out as
        // plain KeyEvents.
        await page.waitForFunction(() => window.qvncTest.rfb._qemuExtKeyEventSupported === true, null,
                                   { timeout: Number(arg) || 20000 });
    },
    async type(arg) {
        await page.evaluate(() => window.qvncTest.rfb.focus());
        await page.keyboard.type(arg, { delay: 20 });
    },
    async press(arg) {
        await page.evaluate(() => window.qvncTest.rfb.focus());
        await page.keyboard.press(arg);
    },
    async compare(arg) {
        const [file, msArg, y0Arg] = arg.split(' ');
        const y0 = Number(y0Arg) || 0;
        const want = readPpm(file);
        const deadline = Date.now() + (Number(msArg) || 20000);
        let last = null;
        for (;;) {
            const got = await canvasPixels();
            last = diff(want, got, y0);
            if (last.count === 0) {
                const s = await state();
                out('DATA ' + JSON.stringify(s));
                return;
            }
            const left = deadline - Date.now();
            if (left <= 0) break;
            // Wait for the next flip (an event), not a fixed time.
            await page.evaluate(([n, ms]) => window.qvncTest.afterFlip(n, ms), [got.flips, left]);
        }
        const s = await state();
        out('DATA ' + JSON.stringify(s));
        throw new Error(`canvas != frame dump: ${last.text}`);
    },
    // A non-incremental FramebufferUpdateRequest for the whole screen, sent
    // through noVNC's own message writer: after a failed compare it tells a
    // lost incremental update (repaired by this) from a client-side fault.
    async refresh() {
        await page.evaluate(() => {
            const rfb = window.qvncTest.rfb;
            rfb.constructor.messages.fbUpdateRequest(rfb._sock, false, 0, 0, rfb._fbWidth, rfb._fbHeight);
        });
    },
    async click(arg) {
        const [x, y] = arg.split(' ').map(Number);
        const box = await page.evaluate(() => {
            const r = window.qvncTest.rfb._canvas.getBoundingClientRect();
            return { x: r.left, y: r.top };
        });
        await page.mouse.move(box.x + x, box.y + y);
        await page.mouse.down();
        await page.mouse.up();
    },
    async state() {
        out('DATA ' + JSON.stringify(await state()));
    },
    async screenshot(arg) {
        await page.screenshot({ path: arg });
    },
    async close() {
        if (page) await page.close();
        page = null;
    },
};

const rl = readline.createInterface({ input: process.stdin });
for await (const line of rl) {
    const sp = line.indexOf(' ');
    const cmd = sp < 0 ? line : line.slice(0, sp);
    const arg = sp < 0 ? '' : line.slice(sp + 1);
    if (cmd === 'quit' || cmd === '') {
        if (cmd === 'quit') break;
        continue;
    }
    const fn = commands[cmd];
    if (!fn) {
        out(`ERROR unknown command ${cmd}`);
        continue;
    }
    try {
        await fn(arg);
        out('OK');
    } catch (e) {
        out(`ERROR ${String(e && e.message || e).replace(/\n/g, ' | ')}`);
    }
}
await context.close();
out('BYE');
