"""The user-facing strings of the web app, in Chinese (default) and English.

One frozen ``UiText`` per language keeps every label in one place and lets the type
checker catch a missing or misspelt key; ``ui_text`` picks one from ``Settings.language``.
"""

from __future__ import annotations

from dataclasses import dataclass

from index.errors import ConfigurationError


@dataclass(frozen=True)
class UiText:
    """Every label, hint and message the web page shows, and its language's tag."""

    language: str
    title: str
    subtitle: str
    tab_chat: str
    tab_library: str
    chat_label: str
    chat_placeholder: str
    question_placeholder: str
    send: str
    clear: str
    examples: str
    settings: str
    top_k: str
    top_k_info: str
    use_llm: str
    use_llm_off: str
    use_reranker: str
    use_reranker_off: str
    sources_title: str
    sources_empty: str
    sources_turn: str
    sources_other: str
    sources_nearest: str
    view_in_document: str
    close: str
    page: str
    support: str
    confidence: str
    confidence_hint: str
    formal_reading: str
    unsupported: str
    unsupported_hint: str
    declined: str
    declined_hint: str
    answering: str
    document_missing: str
    viewer_previous: str
    viewer_next: str
    viewer_position: str
    viewer_bad_request: str
    upload_label: str
    upload_button: str
    upload_hint: str
    upload_none: str
    upload_rejected: str
    reject_type: str
    reject_size: str
    reject_name: str
    reject_empty: str
    indexing: str
    index_done: str
    index_added: str
    index_updated: str
    index_removed: str
    index_unchanged: str
    index_duplicates: str
    index_errors: str
    index_skipped: str
    index_cleaned: str
    index_embedded: str
    cleaned_line: str
    files_title: str
    files_summary: str
    files_unembedded: str
    files_empty: str
    col_file: str
    col_format: str
    col_chunks: str
    col_status: str
    col_time: str
    status_indexed: str
    status_duplicate: str
    status_version: str
    status_error: str
    delete_label: str
    delete_button: str
    deleted: str
    delete_missing: str
    reindex_label: str
    reindex_button: str
    reindex_info: str
    reindex_missing: str
    reindex_outside: str
    refresh: str
    started: str
    login: str
    empty_question: str
    error: str
    internal_error: str


ZH = UiText(
    language="zh",
    title="有据 · 文档问答",
    subtitle="每一句回答都指向原文出处。数据只保存在本机。",
    tab_chat="问答",
    tab_library="知识库管理",
    chat_label="对话",
    chat_placeholder="请输入问题，例如：今年审判管理工作的重点是什么？",
    question_placeholder="输入问题，按回车发送",
    send="提问",
    clear="新对话",
    examples="示例问题",
    settings="回答设置",
    top_k="参考段落数",
    top_k_info="检索多少个原文段落用于回答",
    use_llm="使用大模型生成回答",
    use_llm_off="未配置大模型，使用摘录式回答",
    use_reranker="使用重排序模型",
    use_reranker_off="未配置重排序模型",
    sources_title="引用来源",
    sources_empty=(
        "提问后，回答所引用的原文段落会显示在这里。点击回答中的 [1]、[2] 可定位到对应段落。"
    ),
    sources_turn="第 {turn} 问：{question}",
    sources_other="其他检索到的段落",
    sources_nearest="最接近的段落（仅供参考）",
    view_in_document="在原文中查看",
    close="关闭",
    page="第 {page} 页",
    support="支持度 {score:.0%}",
    confidence="可信度 {score:.0%}",
    confidence_hint="在评测集上校准的估计：这个回答包含所问内容的概率",
    formal_reading="按正式用语理解为：{question}",
    unsupported="未核实",
    unsupported_hint="这句话在引用的原文中没有找到依据",
    declined="文档中没有找到相关内容",
    declined_hint="右侧列出了最接近的段落，供您参考。",
    answering="正在检索并生成回答……",
    document_missing="该文件已不在知识库中。",
    viewer_previous="上一页",
    viewer_next="下一页",
    viewer_position="第 {first}–{last} 字，共 {total} 字",
    viewer_bad_request="无法打开文档：请求的参数无效。",
    upload_label="上传文件（可拖放，可多选）",
    upload_button="上传并索引",
    upload_hint="支持 {types}，单个文件不超过 {size}。",
    upload_none="请先选择要上传的文件。",
    upload_rejected="以下文件未被接收，知识库未作改动：",
    reject_type="不支持的文件类型“{suffix}”",
    reject_size="文件过大（{size}），上限为 {limit}",
    reject_name="文件名无效",
    reject_empty="文件是空的",
    indexing="正在索引",
    index_done="索引完成",
    index_added="新增 {count} 个文件",
    index_updated="更新 {count} 个文件",
    index_removed="移除 {count} 个文件",
    index_unchanged="{count} 个文件未变化",
    index_duplicates="{count} 个文件与已有文件重复",
    index_errors="{count} 个文件出错",
    index_skipped="跳过 {count} 项",
    index_cleaned="{count} 个文件清除了网页广告",
    index_embedded="计算了 {count} 段文字的向量",
    cleaned_line="{name}：清除 {removed} 处网页广告",
    files_title="已索引的文件",
    files_summary="共 {files} 个文件，{chunks} 个段落",
    files_unembedded=(
        "；其中 {count} 个段落的向量尚未算完，暂时只能按关键词找到，"
        "本次索引结束（或再次索引）后补齐"
    ),
    files_empty="知识库还是空的，请上传文件。",
    col_file="文件",
    col_format="格式",
    col_chunks="段落数",
    col_status="状态",
    col_time="索引时间",
    status_indexed="已索引",
    status_duplicate="重复（与 {other} 相同）",
    status_version="已索引 · 版本 {version}/{versions}（1 为最新）",
    status_error="出错：{reason}",
    delete_label="选择要删除的文件",
    delete_button="删除文件",
    deleted="已删除：{source}",
    delete_missing="知识库中没有这个文件：{source}",
    reindex_label="重新索引文件夹",
    reindex_info="可填写：{roots}，或其中的子文件夹（如 {example}/子文件夹）",
    reindex_button="重新索引",
    reindex_missing="文件夹不存在：{folder}",
    reindex_outside="不能索引“{folder}”：只能重新索引这些文件夹及其子文件夹：{roots}",
    refresh="刷新列表",
    started="有据已启动：{url}（按 Ctrl+C 退出）",
    login="请输入用户名和密码",
    empty_question="请输入问题。",
    error="出错了：{message}",
    internal_error="内部错误（{name}），详情见服务器日志",
)

EN = UiText(
    language="en",
    title="Youju · Document Q&A",
    subtitle="Every sentence of an answer points to its source. Your data stays on this machine.",
    tab_chat="Ask",
    tab_library="Knowledge base",
    chat_label="Conversation",
    chat_placeholder="Ask a question about your documents.",
    question_placeholder="Type a question and press Enter",
    send="Ask",
    clear="New chat",
    examples="Example questions",
    settings="Answer settings",
    top_k="Passages",
    top_k_info="How many source passages to retrieve",
    use_llm="Generate answers with the LLM",
    use_llm_off="No LLM configured: answers are extracted",
    use_reranker="Use the reranker",
    use_reranker_off="No reranker configured",
    sources_title="Sources",
    sources_empty="Passages cited by an answer appear here. Click [1], [2] in an answer to jump.",
    sources_turn="Question {turn}: {question}",
    sources_other="Other retrieved passages",
    sources_nearest="Nearest passages (for reference only)",
    view_in_document="View in document",
    close="Close",
    page="page {page}",
    support="support {score:.0%}",
    confidence="confidence {score:.0%}",
    confidence_hint="Calibrated on evaluation sets: the chance this answer holds what was asked",
    formal_reading="Read in formal terms as: {question}",
    unsupported="unverified",
    unsupported_hint="No support for this sentence was found in the cited passages",
    declined="Nothing relevant was found in the documents",
    declined_hint="The nearest passages are listed on the right.",
    answering="Searching and answering…",
    document_missing="This file is no longer in the knowledge base.",
    viewer_previous="Previous",
    viewer_next="Next",
    viewer_position="characters {first}–{last} of {total}",
    viewer_bad_request="Cannot open the document: invalid request.",
    upload_label="Upload files (drag and drop, several at once)",
    upload_button="Upload and index",
    upload_hint="Accepted: {types}, at most {size} per file.",
    upload_none="Choose files to upload first.",
    upload_rejected="These files were refused; the knowledge base is unchanged:",
    reject_type='unsupported file type "{suffix}"',
    reject_size="file too large ({size}), the limit is {limit}",
    reject_name="invalid file name",
    reject_empty="the file is empty",
    indexing="Indexing",
    index_done="Indexing finished",
    index_added="{count} added",
    index_updated="{count} updated",
    index_removed="{count} removed",
    index_unchanged="{count} unchanged",
    index_duplicates="{count} duplicates",
    index_errors="{count} failed",
    index_skipped="{count} skipped",
    index_cleaned="{count} cleaned of web ads",
    index_embedded="{count} passage vectors computed",
    cleaned_line="{name}: {removed} web ad lines or phrases removed",
    files_title="Indexed files",
    files_summary="{files} files, {chunks} passages",
    files_unembedded=(
        "; {count} of them still lack their vectors and are found by keywords only until "
        "the indexing run (or the next one) completes them"
    ),
    files_empty="The knowledge base is empty: upload some files.",
    col_file="File",
    col_format="Format",
    col_chunks="Passages",
    col_status="Status",
    col_time="Indexed at",
    status_indexed="indexed",
    status_duplicate="duplicate of {other}",
    status_version="indexed · version {version} of {versions} (1 = newest)",
    status_error="error: {reason}",
    delete_label="File to delete",
    delete_button="Delete file",
    deleted="Deleted: {source}",
    delete_missing="No such file in the knowledge base: {source}",
    reindex_label="Re-index a folder",
    reindex_info="One of: {roots}, or a folder inside one (e.g. {example}/sub-folder)",
    reindex_button="Re-index",
    reindex_missing="No such folder: {folder}",
    reindex_outside='Cannot index "{folder}": only these folders and their sub-folders can be '
    "re-indexed: {roots}",
    refresh="Refresh",
    started="Youju is running at {url} (Ctrl+C to stop)",
    login="Please sign in",
    empty_question="Please type a question.",
    error="Something went wrong: {message}",
    internal_error="Internal error ({name}); the server log has the details",
)

_LANGUAGES = {"zh": ZH, "en": EN}


def ui_text(language: str) -> UiText:
    """The strings for ``language``: ``"zh"`` (default) or ``"en"``, region tags ignored.

    Raises ``ConfigurationError`` (a ``ValueError``) for any other language.
    """
    key = language.lower().split("-")[0]
    if key not in _LANGUAGES:
        raise ConfigurationError(
            f"不支持的界面语言 {language!r}：请用 'zh' 或 'en'",
            f"unsupported language {language!r}: use 'zh' or 'en'",
        )
    return _LANGUAGES[key]
