// Small browser helpers for the console; everything else is Blazor.
window.complianceConsole = {
    timeZone: () => Intl.DateTimeFormat().resolvedOptions().timeZone,
    focus: (selector) => { const el = document.querySelector(selector); if (el) { el.focus(); } },
    copy: (text) => navigator.clipboard ? navigator.clipboard.writeText(text) : Promise.resolve(),
};

// "/" focuses the audit browser's query bar, as in Seq, Kibana and GitHub (not while typing in a field).
document.addEventListener('keydown', (e) => {
    if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey) { return; }
    const t = e.target;
    if (t && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName))) { return; }
    const bar = document.querySelector('[data-query-input] input, input[data-query-input]');
    if (bar) { e.preventDefault(); bar.focus(); }
});
