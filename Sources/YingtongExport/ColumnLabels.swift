/// Chinese headers of the store's fixed columns (identity, provenance, findings). Dictionary fields take their
/// names and units from `fields.yaml`; a column nobody labelled yet is exported under its code, so a new table
/// is never refused for want of a label.
enum ColumnLabels {
    static let common: [String: String] = [
        "id": "行号", "run_id": "运行编号", "uscc": "统一社会信用代码", "period": "报告期", "name": "单位详细名称",
        "region_code": "行政区划代码", "industry_code": "行业代码", "form_version": "表式版本", "submitted_at": "填报时间",
        "submitted_key": "填报时间（UTC）", "sequence": "到达顺序", "source_index": "来源文件序号", "line": "行号（起）",
        "line_end": "行号（止）", "element_path": "XML 元素路径", "status": "状态", "pipeline": "流水线",
        "started_at": "开始时间", "finished_at": "完成时间", "yingtong_version": "yingtong 版本", "inputs": "输入文件清单",
        "rule_packs": "规则包", "counts": "计数", "settings": "设置", "rule": "规则", "severity": "严重程度",
        "level": "审核层级", "project_name": "项目名称", "fields": "涉及字段", "observed": "实际值", "expected": "期望值",
        "imbalance": "差额", "message": "说明", "explanation": "企业解释", "superseded": "已被更正报送取代",
        "file": "文件", "column": "列号", "byte_offset": "字节偏移", "field": "字段", "raw": "原始内容", "code": "代码",
        "indicator": "指标代码", "value": "数值", "value_milli": "数值（千分之一单位整数）", "unit": "单位",
        "name_zh": "中文名称", "prev_value": "上期值", "change": "较上期变化", "change_unit": "变化单位",
        "growth_rate": "增长率（%）", "target": "目标值", "completion_rate": "完成率（%）", "rank": "排名", "note": "备注",
        "text": "解释内容", "form": "表式", "type": "类型", "storage": "存储方式",
    ]

    /// Columns whose meaning differs by table.
    static let perTable: [String: [String: String]] = [
        "indicator": ["code": "指标代码", "value": "指标值", "unit": "计量单位"],
        "macro": ["value": "数值（原单位）"],
        "quarantine": ["code": "错误代码", "line": "行号（起）"],
        "field_catalog": ["code": "字段代码"],
    ]

    /// TEXT columns that hold exact decimals (Foundation `Decimal` text): numbers for every consumer.
    static let decimalText: [String: Set<String>] = [
        "indicator": ["value", "prev_value", "change", "growth_rate", "target", "completion_rate"],
        "macro": ["value"],
    ]

    static let tableTitles: [String: String] = [
        "record": "企业研发活动（107-2）", "record_history": "107-2 被更正的报送", "project": "研发项目（107-1）",
        "project_history": "107-1 被更正的报送", "roster": "规上企业名录", "macro": "宏观数据", "violation": "审核发现",
        "quarantine": "隔离的输入", "indicator": "县域研发指标", "run": "运行记录", "explanation": "企业解释",
        "field_catalog": "字段目录", "omission": "应统尽统排查（疑似漏统）",
    ]

    static func label(table: String, column: String, identity: String? = nil) -> String {
        perTable[table]?[column] ?? identity ?? common[column] ?? column
    }
}
