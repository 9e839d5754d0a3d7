// The login form: the user and password go in an Authorization header of GET /login (the
// bridge reads no request bodies, and a header never ends up in a URL or the history). A right
// password sets the session cookie (HttpOnly: this script never sees it); then the page opens.
"use strict";

(() => {
  const form = document.getElementById("login");
  const error = document.getElementById("login-error");
  const button = form.querySelector("button");

  function say(text) {
    error.textContent = text;
    error.hidden = !text;
  }

  function basic(user, password) {
    const bytes = new TextEncoder().encode(`${user}:${password}`);
    let binary = "";
    for (const byte of bytes) binary += String.fromCharCode(byte);
    return `Basic ${btoa(binary)}`;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const user = document.getElementById("user").value;
    const password = document.getElementById("password").value;
    button.disabled = true;
    say("");
    try {
      const answer = await fetch("/login", {
        headers: { Authorization: basic(user, password) },
        cache: "no-store",
        credentials: "same-origin",
      });
      if (answer.ok) {
        location.replace("/");
        return;
      }
      if (answer.status === 429) {
        const wait = answer.headers.get("Retry-After") || "a few";
        say(`Too many wrong passwords: try again in ${wait} s.`);
      } else {
        say("Wrong user or password.");
      }
    } catch (failure) {
      say("The bridge cannot be reached.");
    } finally {
      button.disabled = false;
    }
  });
})();
