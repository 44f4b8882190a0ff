// Small browser helpers for the console; everything else is Blazor.
window.complianceConsole = {
    timeZone: () => Intl.DateTimeFormat().resolvedOptions().timeZone,
    focus: (selector) => { const el = document.querySelector(selector); if (el) { el.focus(); } },
    copy: (text) => navigator.clipboard ? navigator.clipboard.writeText(text) : Promise.resolve(),
    // Downloads a file the console serves (a finished export) without leaving the page.
    downloadUrl: (url, name) => save(name, url),
    // Draws a dashboard chart from its data (not from the page) onto a canvas in the theme's colours, and saves it as PNG.
    // spec: { title, subtitle, kind: 'columns' | 'bars' | 'grid', series: [{ name, color: css var }], rows: [{ label, values: [n…] }] }
    chartPng: (name, spec) => {
        const css = getComputedStyle(document.documentElement);
        const color = (v, fallback) => (css.getPropertyValue(v) || '').trim() || fallback;
        const text = color('--mud-palette-text-primary', '#222'), muted = color('--mud-palette-text-secondary', '#666');
        const series = spec.series.map(s => ({ name: s.name, color: color(s.color, '#888') }));
        const rows = spec.rows, columns = spec.kind === 'columns';
        const width = 1200, top = 96, rowHeight = 30;
        const height = columns ? 520 : top + Math.max(1, rows.length) * rowHeight + 40;
        const canvas = document.createElement('canvas');
        canvas.width = width; canvas.height = height;
        const g = canvas.getContext('2d');
        g.fillStyle = color('--mud-palette-surface', '#fff'); g.fillRect(0, 0, width, height);
        g.fillStyle = text; g.font = '600 22px Roboto, Arial, sans-serif'; g.fillText(spec.title, 24, 36);
        g.fillStyle = muted; g.font = '14px Roboto, Arial, sans-serif'; g.fillText(spec.subtitle || '', 24, 60);
        let x = 24;
        series.forEach(s => { g.fillStyle = s.color; g.fillRect(x, 72, 12, 12); g.fillStyle = text; g.fillText(s.name, x + 18, 83); x += g.measureText(s.name).width + 44; });
        const total = r => r.values.reduce((a, b) => a + b, 0);
        const max = Math.max(1, ...rows.map(r => spec.kind === 'grid' ? Math.max(0, ...r.values) : total(r)));
        g.font = '13px Roboto, Arial, sans-serif';
        if (columns) {
            const left = 70, right = width - 24, bottom = height - 60, w = (right - left) / Math.max(1, rows.length);
            g.fillStyle = muted; g.fillText(max.toLocaleString(), 8, top + 10); g.fillText('0', 8, bottom);
            rows.forEach((r, i) => {
                let y = bottom;
                r.values.forEach((v, k) => { const h = v / max * (bottom - top); g.fillStyle = series[k].color; g.fillRect(left + i * w + w * 0.1, y - h, w * 0.8, h); y -= h; });
            });
            g.fillStyle = muted;
            [0, Math.floor(rows.length / 2), rows.length - 1].filter((v, i, a) => v >= 0 && a.indexOf(v) === i).forEach(i => g.fillText(rows[i].label, Math.min(left + i * w, right - 140), bottom + 24));
        } else {
            const labelWidth = 320, left = labelWidth + 36, right = width - 120;
            rows.forEach((r, i) => {
                const y = top + i * rowHeight;
                g.fillStyle = text; g.fillText(r.label.length > 44 ? r.label.slice(0, 43) + '…' : r.label, 24, y + 20);
                if (spec.kind === 'grid') {
                    const cw = (width - 24 - left) / series.length;
                    r.values.forEach((v, k) => {
                        g.globalAlpha = 0.12 + 0.6 * v / max; g.fillStyle = series[k].color; g.fillRect(left + k * cw + 2, y + 2, cw - 4, rowHeight - 4);
                        g.globalAlpha = 1; g.fillStyle = text; g.fillText(v.toLocaleString(), left + k * cw + 10, y + 20);
                    });
                } else {
                    let bx = left;
                    r.values.forEach((v, k) => { const w = v / max * (right - left); g.fillStyle = series[k].color; g.fillRect(bx, y + 5, w, rowHeight - 10); bx += w; });
                    g.fillStyle = text; g.fillText(total(r).toLocaleString(), bx + 8, y + 20);
                }
            });
        }
        canvas.toBlob(blob => save(name, URL.createObjectURL(blob)), 'image/png');
    },
};

function save(name, url) {
    const a = document.createElement('a');
    a.href = url; a.download = name;
    document.body.appendChild(a); a.click();
    setTimeout(() => { if (url.startsWith('blob:')) { URL.revokeObjectURL(url); } a.remove(); }, 1000);
}

// "/" focuses the audit browser's query bar, as in Seq, Kibana and GitHub (not while typing in a field).
document.addEventListener('keydown', (e) => {
    if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey) { return; }
    const t = e.target;
    if (t && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName))) { return; }
    const bar = document.querySelector('[data-query-input] input, input[data-query-input]');
    if (bar) { e.preventDefault(); bar.focus(); }
});
