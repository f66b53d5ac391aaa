// Styles of the analysis view, injected by the bundle (with the page's script nonce) so that the
// webview and the standalone HTML report use the same CSS. Colours come from VS Code's theme variables;
// the standalone report defines those variables for its light and dark themes.

export const ANALYSIS_CSS = `
body.ml-standalone.vscode-light {
  --vscode-font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  --vscode-font-size: 13px;
  --vscode-foreground: #3b3b3b;
  --vscode-editor-foreground: #3b3b3b;
  --vscode-editor-background: #ffffff;
  --vscode-descriptionForeground: #6f6f6f;
  --vscode-panel-border: #e0e0e0;
  --vscode-editorWidget-border: #d4d4d4;
  --vscode-charts-blue: #1a85ff;
  --vscode-charts-orange: #c76d00;
  --vscode-button-background: #005fb8;
  --vscode-button-foreground: #ffffff;
  --vscode-button-hoverBackground: #0258a8;
  --vscode-button-secondaryBackground: #e5e5e5;
  --vscode-button-secondaryForeground: #3b3b3b;
  --vscode-button-secondaryHoverBackground: #cccccc;
  --vscode-focusBorder: #005fb8;
  --vscode-textLink-foreground: #005fb8;
  --vscode-editorWarning-foreground: #bf8803;
  --vscode-inputValidation-warningBackground: #fdf6e3;
  --vscode-inputValidation-warningBorder: #e0b44c;
  --vscode-inputValidation-errorBackground: #fbeaea;
  --vscode-inputValidation-errorBorder: #be1100;
  --vscode-textBlockQuote-background: #f5f5f5;
  --vscode-progressBar-background: #0e70c0;
  --vscode-editor-font-family: ui-monospace, "SF Mono", Menlo, Consolas, monospace;
}
body.ml-standalone.vscode-dark {
  --vscode-font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  --vscode-font-size: 13px;
  --vscode-foreground: #cccccc;
  --vscode-editor-foreground: #d4d4d4;
  --vscode-editor-background: #1f1f1f;
  --vscode-descriptionForeground: #9d9d9d;
  --vscode-panel-border: #3c3c3c;
  --vscode-editorWidget-border: #454545;
  --vscode-charts-blue: #4da3ff;
  --vscode-charts-orange: #f0a04b;
  --vscode-button-background: #0078d4;
  --vscode-button-foreground: #ffffff;
  --vscode-button-hoverBackground: #026ec1;
  --vscode-button-secondaryBackground: #313131;
  --vscode-button-secondaryForeground: #cccccc;
  --vscode-button-secondaryHoverBackground: #3c3c3c;
  --vscode-focusBorder: #0078d4;
  --vscode-textLink-foreground: #4daafc;
  --vscode-editorWarning-foreground: #cca700;
  --vscode-inputValidation-warningBackground: #352a05;
  --vscode-inputValidation-warningBorder: #b89500;
  --vscode-inputValidation-errorBackground: #5a1d1d;
  --vscode-inputValidation-errorBorder: #be1100;
  --vscode-textBlockQuote-background: #2b2b2b;
  --vscode-progressBar-background: #0078d4;
  --vscode-editor-font-family: ui-monospace, "SF Mono", Menlo, Consolas, monospace;
}
body.ml-standalone {
  background: var(--vscode-editor-background);
  color: var(--vscode-foreground);
  margin: 0;
}
body {
  font-family: var(--vscode-font-family);
  font-size: var(--vscode-font-size);
  line-height: 1.45;
}
.ml-root { max-width: 2400px; margin: 0 auto; padding: 14px 20px 40px; box-sizing: border-box; }
.ml-root *, .ml-root *::before, .ml-root *::after { box-sizing: border-box; }
.ml-topbar { display: flex; flex-wrap: wrap; align-items: baseline; gap: 8px 16px; justify-content: space-between;
  border-bottom: 1px solid var(--vscode-panel-border); padding-bottom: 10px; margin-bottom: 14px; }
.ml-topbar h1 { font-size: 1.45em; font-weight: 600; margin: 0; overflow-wrap: anywhere; }
.ml-subtitle { color: var(--vscode-descriptionForeground); margin: 2px 0 0; }
.ml-actions { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; }
.ml-btn { font: inherit; font-size: 0.95em; border: 1px solid var(--vscode-button-border, transparent); border-radius: 3px;
  padding: 3px 10px; cursor: pointer; color: var(--vscode-button-secondaryForeground); background: var(--vscode-button-secondaryBackground); }
.ml-btn:hover { background: var(--vscode-button-secondaryHoverBackground); }
.ml-btn.ml-primary { color: var(--vscode-button-foreground); background: var(--vscode-button-background); }
.ml-btn.ml-primary:hover { background: var(--vscode-button-hoverBackground); }
.ml-btn:focus-visible { outline: 1px solid var(--vscode-focusBorder); outline-offset: 2px; }
.ml-btn[aria-pressed="true"] { outline: 1px solid var(--vscode-focusBorder); }
.ml-status { color: var(--vscode-descriptionForeground); font-size: 0.92em; min-height: 1.2em; }
.ml-cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 12px; margin-bottom: 12px; }
.ml-card { border: 1px solid var(--vscode-panel-border); border-radius: 4px; padding: 10px 12px; }
.ml-card h2 { font-size: 1em; margin: 0 0 6px; display: flex; align-items: center; gap: 8px; overflow-wrap: anywhere; }
.ml-swatch { display: inline-block; width: 10px; height: 10px; border-radius: 50%; flex: none; margin-right: 6px; vertical-align: baseline; }
.ml-card dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0; }
.ml-card dt { color: var(--vscode-descriptionForeground); }
.ml-card dd { margin: 0; overflow-wrap: anywhere; }
.ml-callout { border: 1px solid var(--vscode-inputValidation-warningBorder, #b89500); border-left-width: 4px;
  background: var(--vscode-inputValidation-warningBackground, transparent); border-radius: 3px; padding: 8px 12px; margin: 0 0 14px; }
.ml-callout h2 { font-size: 1em; margin: 0 0 4px; }
.ml-callout ul { margin: 0; padding-left: 18px; }
.ml-callout.ml-error { border-color: var(--vscode-inputValidation-errorBorder, #be1100); background: var(--vscode-inputValidation-errorBackground, transparent); }
.ml-callout.ml-error h2 { font-size: 1.25em; color: var(--vscode-errorForeground, inherit); margin-bottom: 6px; }
.ml-error-problem { font-size: 1.05em; margin: 0 0 8px; overflow-wrap: anywhere; }
.ml-error-facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0 0 8px; }
.ml-error-facts dt { color: var(--vscode-descriptionForeground); }
.ml-error-facts dd { margin: 0; font-family: var(--vscode-editor-font-family, monospace); overflow-wrap: anywhere; }
.ml-error-hint { margin: 0 0 10px; }
.ml-why { display: inline; }
.ml-why summary { display: inline; cursor: pointer; color: var(--vscode-textLink-foreground); list-style: none; }
.ml-why summary::-webkit-details-marker { display: none; }
.ml-why[open] p { margin: 4px 0 0; color: var(--vscode-descriptionForeground); }
.ml-callout li .ml-btn { margin: 4px 0 2px; }
.ml-progress { border: 1px solid var(--vscode-panel-border); border-radius: 4px; padding: 14px 16px; margin: 10px 0; }
.ml-progress-row { display: flex; gap: 12px; align-items: center; }
.ml-progress-bar { flex: 1; height: 6px; border-radius: 3px; background: var(--vscode-panel-border); overflow: hidden; }
.ml-progress-fill { height: 100%; width: 0; background: var(--vscode-progressBar-background); transition: width 0.2s; }
.ml-progress-fill.ml-indeterminate { width: 30%; animation: ml-slide 1.2s linear infinite; }
@keyframes ml-slide { from { margin-left: -30%; } to { margin-left: 100%; } }
.ml-progress-label { margin: 0 0 8px; }
.ml-section { border-top: 1px solid var(--vscode-panel-border); padding-top: 12px; margin-top: 18px; min-width: 0; }
/* Two metric charts side by side when each still gets ~620 px; stacked below that. */
.ml-metric-pair { display: grid; grid-template-columns: repeat(auto-fit, minmax(620px, 1fr)); column-gap: 28px; }
@media (max-width: 1320px) { .ml-metric-pair { grid-template-columns: minmax(0, 1fr); } }
.ml-section-head { display: flex; flex-wrap: wrap; justify-content: space-between; align-items: baseline; gap: 6px 12px; }
.ml-section-head h2 { font-size: 1.15em; margin: 0; font-weight: 600; }
.ml-note { color: var(--vscode-descriptionForeground); margin: 4px 0 8px; max-width: 78ch; }
.ml-chart-wrap { position: relative; width: 100%; }
.ml-chart-wrap canvas { display: block; }
.ml-chart-wrap.ml-metric { height: clamp(260px, 42vw, 470px); }
@media (min-width: 1321px) { .ml-chart-wrap.ml-metric { height: clamp(300px, 28vw, 520px); } }
.ml-heat-grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(330px, 1fr)); gap: 18px; align-items: end; }
.ml-heat { max-width: 560px; }
.ml-heat.ml-heat-wide { max-width: 900px; grid-column: 1 / -1; }
.ml-heat-sub { color: var(--vscode-descriptionForeground); margin: 0 0 4px; font-size: 0.92em; }
.ml-heat h3 { font-size: 1em; font-weight: 600; margin: 6px 0 4px; display: flex; align-items: center; justify-content: flex-start; gap: 10px; }
.ml-heat h3 > span:first-child { overflow-wrap: anywhere; min-width: 0; }
.ml-heat h3 .ml-actions { flex: none; }
.ml-btn { white-space: nowrap; }
.ml-table-wrap { overflow-x: auto; margin-top: 8px; }
.ml-table-wrap h3 { font-size: 0.95em; margin: 10px 0 4px; }
.ml-table { border-collapse: collapse; font-family: var(--vscode-editor-font-family, monospace); font-size: 0.9em; }
.ml-table caption { text-align: left; color: var(--vscode-descriptionForeground); padding-bottom: 4px; font-family: var(--vscode-font-family); }
.ml-table th, .ml-table td { border: 1px solid var(--vscode-panel-border); padding: 2px 6px; text-align: right; white-space: nowrap; }
.ml-table th { font-weight: 600; background: var(--vscode-textBlockQuote-background, transparent); }
.ml-table td.ml-mean { font-weight: 600; }
.ml-foot { color: var(--vscode-descriptionForeground); font-size: 0.9em; margin-top: 28px; border-top: 1px solid var(--vscode-panel-border); padding-top: 8px; }
.ml-hidden { display: none !important; }
body.vscode-high-contrast .ml-card, body.vscode-high-contrast .ml-progress, body.vscode-high-contrast-light .ml-card { border-color: var(--vscode-contrastBorder); }
@media print { .ml-actions, .ml-section-head .ml-actions { display: none; } }
`;
