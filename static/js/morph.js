// How refreshes morph the page (idiomorph, static/js/vendor/): they change what the server
// changed and leave alone what the person is doing. A field being typed in keeps its text and
// caret, an output opened with its <details> stays open, and a ticked box stays ticked: the
// server never renders those states, so its answer must not undo them.
(() => {
  Idiomorph.defaults.ignoreActiveValue = true;
  Idiomorph.defaults.callbacks.beforeAttributeUpdated = (name, element) => {
    if (name === "open" && element.localName === "details") return false;
    if (name === "checked" && element.type === "checkbox") return false;
    return true;
  };
})();
