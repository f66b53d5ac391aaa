// The chart.js pieces the analysis view uses, imported by name so esbuild drops the rest of chart.js.
// An .mts file because chart.js and the matrix plugin are ES modules (the rest of webview/ type-checks
// as CommonJS and loads this file with import()).
import { Chart, Legend, LineController, LineElement, LinearScale, PointElement, ScatterController, Title, Tooltip } from 'chart.js';
import { MatrixController, MatrixElement } from 'chartjs-chart-matrix';

Chart.register(ScatterController, LineController, PointElement, LineElement, LinearScale, Tooltip, Legend, Title, MatrixController, MatrixElement);

export { Chart };
