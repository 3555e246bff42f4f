import * as common from '@grafana/grafana-foundation-sdk/common'
import { QueryVariableBuilder, VariableRefresh, VariableSort } from '@grafana/grafana-foundation-sdk/dashboard'
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus'
import { DataqueryBuilder as LokiQueryBuilder } from '@grafana/grafana-foundation-sdk/loki'
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries'
import * as piechart from '@grafana/grafana-foundation-sdk/piechart'
import * as bargauge from '@grafana/grafana-foundation-sdk/bargauge'
import { DATASOURCE_UID } from '../constants'

/** The panel and variable shapes every generated dashboard shares, so they look and behave alike. */

export const prometheus = { type: 'prometheus', uid: DATASOURCE_UID.prometheus }
export const loki = { type: 'loki', uid: DATASOURCE_UID.loki }

type Datasource = typeof prometheus | typeof loki

export function query (expr: string, legend: string): DataqueryBuilder {
  return new DataqueryBuilder().datasource(prometheus).expr(expr).legendFormat(legend).range()
}

export function logQuery (expr: string, legend: string): LokiQueryBuilder {
  return new LokiQueryBuilder().datasource(loki).expr(expr).legendFormat(legend)
}

/** A multi-select variable over a label's values, "All" selected; `allValue` replaces the long alternation. */
export function labelVariable (name: string, label: string, values: string, allValue?: string): QueryVariableBuilder {
  const variable = new QueryVariableBuilder(name)
    .label(label)
    .datasource(prometheus)
    .query(values)
    .definition(values)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .current({ selected: true, text: ['All'], value: ['$__all'] })
  return allValue === undefined ? variable : variable.allValue(allValue)
}

/** A half-width time series with a table legend (mean, max, last). */
export function series (title: string, unit: string, description: string): timeseries.PanelBuilder {
  return new timeseries.PanelBuilder()
    .title(title)
    .description(description)
    .datasource(prometheus)
    .unit(unit)
    .min(0)
    .fillOpacity(10)
    .showPoints(common.VisibilityMode.Never)
    .legend(new common.VizLegendOptionsBuilder()
      .displayMode(common.LegendDisplayMode.Table)
      .placement(common.LegendPlacement.Bottom)
      .showLegend(true)
      .calcs(['mean', 'max', 'lastNotNull']))
    .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending))
    .span(12)
    .height(8)
}

/** A half-width donut of one instant query, values and shares in the legend. */
export function donut (title: string, description: string, target: DataqueryBuilder): piechart.PanelBuilder {
  return new piechart.PanelBuilder()
    .title(title)
    .description(description)
    .datasource(prometheus)
    .unit('short')
    .pieType(piechart.PieChartType.Donut)
    .displayLabels([piechart.PieChartLabels.Name, piechart.PieChartLabels.Percent])
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .legend(new piechart.PieChartLegendOptionsBuilder()
      .displayMode(common.LegendDisplayMode.Table)
      .placement(common.LegendPlacement.Right)
      .showLegend(true)
      .values([piechart.PieChartLegendValues.Value, piechart.PieChartLegendValues.Percent]))
    .withTarget(target)
    .span(12)
    .height(8)
}

/** A half-width horizontal bar gauge of one instant query (top-N lists). */
export function bars (title: string, description: string, datasource: Datasource, unit: string,
  target: DataqueryBuilder | LokiQueryBuilder): bargauge.PanelBuilder {
  return new bargauge.PanelBuilder()
    .title(title)
    .description(description)
    .datasource(datasource)
    .unit(unit)
    .displayMode(common.BarGaugeDisplayMode.Gradient)
    .orientation(common.VizOrientation.Horizontal)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .withTarget(target)
    .span(12)
    .height(8)
}
