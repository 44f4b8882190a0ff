// Tells the server whether this browser prefers a dark colour scheme (cookie cc-system-dark, read by
// ThemePreferences), so that pages are rendered in the right theme from the first paint for users who follow the
// system, the sign-in page included. Runs in <head>, before anything is painted.
(function () {
    var name = "cc-system-dark";
    var dark = !!(window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches);
    var had = document.cookie.split("; ").some(function (c) { return c.indexOf(name + "=") === 0; });
    document.cookie = name + "=" + (dark ? "1" : "0") + ";path=/;max-age=31536000;samesite=strict";
    var has = document.cookie.split("; ").some(function (c) { return c.indexOf(name + "=") === 0; });
    // First visit of a browser that prefers dark: the server guessed light. Ask again once, now that it can know.
    // (Never loops: it only happens when the cookie was missing and could be set.)
    if (dark && !had && has && document.readyState === "loading") {
        window.stop();
        window.location.reload();
    }
})();
