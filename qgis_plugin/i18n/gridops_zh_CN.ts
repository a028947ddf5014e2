<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1">
<context>
    <name>GridOps</name>
    <message>
        <location filename="../plugin.py" line="95"/>
        <source>&amp;GridOps</source>
        <translation>GridOps 网格运维(&amp;G)</translation>
    </message>
    <message>
        <location filename="../processing/provider.py" line="39"/>
        <source>GridOps</source>
        <translation>GridOps 网格运维</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="297"/>
        <source>Not connected</source>
        <translation>尚未连接</translation>
    </message>
    <message>
        <location filename="../core/review.py" line="147"/>
        <source>{days} d {hours} h {minutes} min</source>
        <translation>{days} 天 {hours} 小时 {minutes} 分</translation>
    </message>
    <message>
        <location filename="../core/review.py" line="151"/>
        <source>{hours} h {minutes} min</source>
        <translation>{hours} 小时 {minutes} 分</translation>
    </message>
    <message>
        <location filename="../core/review.py" line="154"/>
        <source>{minutes} min</source>
        <translation>{minutes} 分</translation>
    </message>
    <message>
        <location filename="../core/review.py" line="160"/>
        <source>No position with the submission</source>
        <translation>提交时未带位置</translation>
    </message>
    <message>
        <location filename="../core/review.py" line="163"/>
        <source>{distance} m from the task point</source>
        <translation>距任务点 {distance} 米</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="47"/>
        <source>Litter</source>
        <translation>垃圾堆积</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="48"/>
        <source>Bike parking</source>
        <translation>单车乱停放</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="49"/>
        <source>Street-side drying</source>
        <translation>沿街晾晒</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="50"/>
        <source>Waterlogging</source>
        <translation>路面积水</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="51"/>
        <source>Streetlight out</source>
        <translation>路灯不亮</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="52"/>
        <source>Damaged manhole cover</source>
        <translation>井盖破损</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="53"/>
        <source>Other</source>
        <translation>其他</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="83"/>
        <source>Reported</source>
        <translation>待受理</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="84"/>
        <source>Open</source>
        <translation>待派遣</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="85"/>
        <source>Assigned</source>
        <translation>已派遣</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="86"/>
        <source>Declined</source>
        <translation>被退回</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="87"/>
        <source>In progress</source>
        <translation>处置中</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="88"/>
        <source>Paused</source>
        <translation>暂停</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="89"/>
        <source>Submitted</source>
        <translation>待核查</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="90"/>
        <source>Rework</source>
        <translation>返工</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="91"/>
        <source>Closed</source>
        <translation>已结案</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="92"/>
        <source>Canceled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="93"/>
        <source>Invalid</source>
        <translation>无效</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="100"/>
        <source>Urgent</source>
        <translation>紧急</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="101"/>
        <source>High</source>
        <translation>高</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="102"/>
        <source>Normal</source>
        <translation>普通</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="103"/>
        <source>Low</source>
        <translation>低</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="110"/>
        <source>Camera</source>
        <translation>视频监控</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="111"/>
        <source>Citizen</source>
        <translation>市民上报</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="112"/>
        <source>Hotline call</source>
        <translation>热线来电</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="113"/>
        <source>Patrol</source>
        <translation>巡查</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="114"/>
        <source>Office</source>
        <translation>中心</translation>
    </message>
    <message>
        <location filename="../gui/task_dialogs.py" line="46"/>
        <source>Title</source>
        <translation>标题</translation>
    </message>
    <message>
        <location filename="../gui/task_dialogs.py" line="45"/>
        <source>Kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="122"/>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <location filename="../gui/tasks_dock.py" line="153"/>
        <source>Priority</source>
        <translation>优先级</translation>
    </message>
    <message>
        <location filename="../gui/stats_dock.py" line="49"/>
        <source>Grid</source>
        <translation>网格</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="125"/>
        <source>Assignee</source>
        <translation>处置人</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="126"/>
        <source>Due</source>
        <translation>期限</translation>
    </message>
    <message>
        <location filename="../gui/stats_dock.py" line="52"/>
        <source>Overdue</source>
        <translation>超期</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="128"/>
        <source>Pending</source>
        <translation>待同步</translation>
    </message>
    <message>
        <location filename="../gui/assign_dialog.py" line="33"/>
        <source>Assign tasks</source>
        <translation>派遣任务</translation>
    </message>
    <message>
        <location filename="../gui/assign_dialog.py" line="35"/>
        <source>Assign</source>
        <translation>派遣</translation>
    </message>
    <message>
        <location filename="../gui/connect_dialog.py" line="83"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../gui/assign_dialog.py" line="50"/>
        <source>Assign “{0}” to:</source>
        <translation>将“{0}”派遣给：</translation>
    </message>
    <message>
        <location filename="../gui/assign_dialog.py" line="51"/>
        <source>Assign {0} tasks to:</source>
        <translation>将 {0} 个任务派遣给：</translation>
    </message>
    <message>
        <location filename="../gui/stats_dock.py" line="50"/>
        <source>Worker</source>
        <translation>网格员</translation>
    </message>
    <message>
        <location filename="../gui/assign_dialog.py" line="56"/>
        <source>Grids</source>
        <translation>网格</translation>
    </message>
    <message>
        <location filename="../gui/assign_dialog.py" line="56"/>
        <source>Active tasks</source>
        <translation>在办任务</translation>
    </message>
    <message>
        <location filename="../gui/assign_dialog.py" line="64"/>
        <source>(suggested)</source>
        <translation>（推荐）</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="67"/>
        <source>Loading…</source>
        <translation>加载中…</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="75"/>
        <source>Not an image</source>
        <translation>不是图片</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="82"/>
        <source>No photo</source>
        <translation>无照片</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="154"/>
        <source>GridOps review</source>
        <translation>GridOps 审核</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="155"/>
        <source>To review</source>
        <translation>待审核</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="156"/>
        <source>Before</source>
        <translation>处置前</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="157"/>
        <source>After</source>
        <translation>处置后</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="158"/>
        <source>Worker&apos;s note:</source>
        <translation>网格员备注：</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="159"/>
        <source>Position:</source>
        <translation>位置：</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="160"/>
        <source>Time taken:</source>
        <translation>用时：</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="161"/>
        <source>Comment (optional to confirm, required to send back)</source>
        <translation>审核意见（确认时可不填，退回时必填）</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="166"/>
        <source>Confirm</source>
        <translation>确认</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="167"/>
        <source>Send back</source>
        <translation>退回</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="171"/>
        <source>Photos sent</source>
        <translation>所附照片</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="190"/>
        <source>this device</source>
        <translation>本机</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="214"/>
        <source>No photos</source>
        <translation>无照片</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="224"/>
        <source>GridOps photos</source>
        <translation>GridOps 照片</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="286"/>
        <source>Submitted tasks: {count}</source>
        <translation>待审核任务：{count} 件</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="301"/>
        <source>Nothing to review</source>
        <translation>暂无待审核任务</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="322"/>
        <source>Write a comment to send the task back.</source>
        <translation>退回任务需填写审核意见。</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="334"/>
        <source>Photo {taken_at}</source>
        <translation>照片 {taken_at}</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="354"/>
        <source>Refused: {message}</source>
        <translation>未执行：{message}</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="367"/>
        <source>Confirmed; the hub hears of it at the next sync.</source>
        <translation>已确认，下次同步时提交到平台。</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="383"/>
        <source>Sent back for rework; the hub hears of it at the next sync.</source>
        <translation>已退回返工，下次同步时提交到平台。</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="397"/>
        <source>Conflicts ({count})</source>
        <translation>冲突（{count}）</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="421"/>
        <source>No conflicts</source>
        <translation>没有冲突</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="424"/>
        <source>Task: {title}
Sent by {who} at {at}: {type}, refused ({code})
{note}</source>
        <translation>任务：{title}
{who} 于 {at} 提交 {type}，被拒收（{code}）
{note}</translation>
    </message>
    <message>
        <location filename="../gui/task_dialogs.py" line="43"/>
        <source>New task</source>
        <translation>新建任务</translation>
    </message>
    <message>
        <location filename="../gui/task_dialogs.py" line="49"/>
        <source>Source</source>
        <translation>来源</translation>
    </message>
    <message>
        <location filename="../gui/tasks_dock.py" line="154"/>
        <source>Due time</source>
        <translation>处置期限</translation>
    </message>
    <message>
        <location filename="../gui/tasks_dock.py" line="76"/>
        <source>New priority:</source>
        <translation>新的优先级：</translation>
    </message>
    <message>
        <location filename="../gui/tasks_dock.py" line="89"/>
        <source>Cancel tasks</source>
        <translation>取消任务</translation>
    </message>
    <message>
        <location filename="../gui/tasks_dock.py" line="89"/>
        <source>Reason for cancelling:</source>
        <translation>取消原因：</translation>
    </message>
    <message>
        <location filename="../gui/tasks_dock.py" line="115"/>
        <source>GridOps tasks</source>
        <translation>GridOps 任务</translation>
    </message>
    <message>
        <location filename="../gui/tasks_dock.py" line="141"/>
        <source>All statuses</source>
        <translation>全部状态</translation>
    </message>
    <message>
        <location filename="../gui/tasks_dock.py" line="142"/>
        <source>Active</source>
        <translation>在办</translation>
    </message>
    <message>
        <location filename="../gui/tasks_dock.py" line="145"/>
        <source>All kinds</source>
        <translation>全部类型</translation>
    </message>
    <message>
        <location filename="../gui/tasks_dock.py" line="148"/>
        <source>Search title, description or id</source>
        <translation>搜索标题、描述或编号</translation>
    </message>
    <message>
        <location filename="../gui/tasks_dock.py" line="151"/>
        <source>Overdue only</source>
        <translation>仅超期</translation>
    </message>
    <message>
        <location filename="../gui/tasks_dock.py" line="152"/>
        <source>Assign…</source>
        <translation>派遣…</translation>
    </message>
    <message>
        <location filename="../gui/tasks_dock.py" line="155"/>
        <source>Cancel task</source>
        <translation>取消任务</translation>
    </message>
    <message>
        <location filename="../gui/tasks_dock.py" line="156"/>
        <source>Create from map</source>
        <translation>地图上新建</translation>
    </message>
    <message>
        <location filename="../gui/tasks_dock.py" line="157"/>
        <source>Click on the map where the new task is</source>
        <translation>在地图上点击新任务的位置</translation>
    </message>
    <message>
        <location filename="../gui/tasks_dock.py" line="166"/>
        <source>Zoom</source>
        <translation>缩放至</translation>
    </message>
    <message>
        <location filename="../gui/tasks_dock.py" line="224"/>
        <source>All grids</source>
        <translation>全部网格</translation>
    </message>
    <message>
        <location filename="../gui/tasks_dock.py" line="227"/>
        <source>Anyone</source>
        <translation>全部处置人</translation>
    </message>
    <message>
        <location filename="../gui/tasks_dock.py" line="249"/>
        <source>{0} of {1} tasks</source>
        <translation>{0} / {1} 个任务</translation>
    </message>
    <message>
        <location filename="../gui/tasks_dock.py" line="346"/>
        <source>Refused</source>
        <translation>被拒绝</translation>
    </message>
    <message>
        <location filename="../gui/tasks_dock.py" line="358"/>
        <source>Select one or more tasks first</source>
        <translation>请先选择一个或多个任务</translation>
    </message>
    <message>
        <location filename="../gui/connect_dialog.py" line="33"/>
        <source>The hub refused the login ({status}).</source>
        <translation>中心拒绝登录（{status}）。</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="107"/>
        <source>Connect to the GridOps hub</source>
        <translation>连接 GridOps 中心</translation>
    </message>
    <message>
        <location filename="../gui/connect_dialog.py" line="64"/>
        <source>Hub address</source>
        <translation>中心地址</translation>
    </message>
    <message>
        <location filename="../gui/connect_dialog.py" line="65"/>
        <source>Username</source>
        <translation>用户名</translation>
    </message>
    <message>
        <location filename="../gui/connect_dialog.py" line="66"/>
        <source>Password</source>
        <translation>密码</translation>
    </message>
    <message>
        <location filename="../gui/connect_dialog.py" line="67"/>
        <source>Remember the password (QGIS authentication database)</source>
        <translation>记住密码（保存在 QGIS 认证数据库）</translation>
    </message>
    <message>
        <location filename="../gui/connect_dialog.py" line="72"/>
        <source>Sync every</source>
        <translation>自动同步间隔</translation>
    </message>
    <message>
        <location filename="../gui/connect_dialog.py" line="73"/>
        <source> min</source>
        <translation> 分钟</translation>
    </message>
    <message>
        <location filename="../gui/connect_dialog.py" line="74"/>
        <source>Off</source>
        <translation>关闭</translation>
    </message>
    <message>
        <location filename="../gui/connect_dialog.py" line="75"/>
        <source>Minutes between automatic syncs; 0 turns them off.</source>
        <translation>两次自动同步之间的分钟数；0 表示关闭。</translation>
    </message>
    <message>
        <location filename="../gui/connect_dialog.py" line="80"/>
        <source>Log in</source>
        <translation>登录</translation>
    </message>
    <message>
        <location filename="../gui/connect_dialog.py" line="101"/>
        <source>Fill in the hub address, the username and the password.</source>
        <translation>请填写中心地址、用户名和密码。</translation>
    </message>
    <message>
        <location filename="../gui/status.py" line="21"/>
        <source>GridOps: not connected</source>
        <translation>GridOps：未连接</translation>
    </message>
    <message>
        <location filename="../gui/status.py" line="22"/>
        <source>never</source>
        <translation>从未</translation>
    </message>
    <message>
        <location filename="../gui/status.py" line="27"/>
        <source>Last sync {time} · waiting {pending} · conflicts {conflicts}</source>
        <translation>上次同步 {time} · 待发送 {pending} · 冲突 {conflicts}</translation>
    </message>
    <message>
        <location filename="../gui/status.py" line="44"/>
        <source>GridOps: last sync, changes waiting to be sent, unseen conflicts</source>
        <translation>GridOps：上次同步时间、待发送的修改、未查看的冲突</translation>
    </message>
    <message>
        <location filename="../gui/status.py" line="59"/>
        <source>GridOps: status unavailable ({error})</source>
        <translation>GridOps：状态不可用（{error}）</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="107"/>
        <source>Connect…</source>
        <translation>连接…</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="114"/>
        <source>Sync now</source>
        <translation>立即同步</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="114"/>
        <source>Sync the replica with the hub now</source>
        <translation>立即与中心同步本地副本</translation>
    </message>
    <message>
        <location filename="../processing/export_tasks.py" line="204"/>
        <source>Tasks</source>
        <translation>任务</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="121"/>
        <source>Show or hide the GridOps tasks panel</source>
        <translation>显示或隐藏 GridOps 任务面板</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="441"/>
        <source>Review</source>
        <translation>审核</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="129"/>
        <source>Show or hide the GridOps review panel</source>
        <translation>显示或隐藏 GridOps 审核面板</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="148"/>
        <source>The sync client cannot be loaded</source>
        <translation>无法加载同步客户端</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="165"/>
        <source>The last GridOps replica cannot be opened</source>
        <translation>无法打开上次的 GridOps 本地副本</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="309"/>
        <source>GridOps is not complete</source>
        <translation>GridOps 插件不完整</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="297"/>
        <source>Connect to the hub first (GridOps → Connect…).</source>
        <translation>请先连接中心（GridOps → 连接…）。</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="336"/>
        <source>The GridOps layers cannot be added</source>
        <translation>无法添加 GridOps 图层</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="341"/>
        <source>Connected as {username}; fetching the data now.</source>
        <translation>已以 {username} 身份连接，正在获取数据。</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="367"/>
        <source>GridOps sync</source>
        <translation>GridOps 同步</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="389"/>
        <source>A GridOps panel could not be refreshed</source>
        <translation>GridOps 面板刷新失败</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="400"/>
        <source>Sync failed</source>
        <translation>同步失败</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="404"/>
        <source>Synced: {sent} sent, {received} received.</source>
        <translation>已同步：发送 {sent} 条，接收 {received} 条。</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="414"/>
        <source>{count} change(s) were refused by the hub: see the Review panel.</source>
        <translation>中心拒绝了 {count} 项修改：请查看审核面板。</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="455"/>
        <source>The {panel} panel is not available in this build</source>
        <translation>此版本中没有“{panel}”面板</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="463"/>
        <source>The {panel} panel could not be opened</source>
        <translation>无法打开“{panel}”面板</translation>
    </message>
    <message>
        <location filename="../gui/connect_dialog.py" line="29"/>
        <source>Cannot reach the hub at {url}. Check the address and the network.</source>
        <translation>无法连接中心 {url}。请检查地址和网络。</translation>
    </message>
    <message>
        <location filename="../gui/review_dock.py" line="168"/>
        <source>What the hub refused, as it was sent:</source>
        <translation>平台拒收的操作（保留原样）：</translation>
    </message>
    <message>
        <location filename="../core/review.py" line="166"/>
        <source>{distance} m from the task point (GNSS ±{accuracy} m)</source>
        <translation>距任务点 {distance} 米（定位精度 ±{accuracy} 米）</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="60"/>
        <source>Streetlight</source>
        <translation>路灯</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="61"/>
        <source>Hydrant</source>
        <translation>消防栓</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="62"/>
        <source>Manhole</source>
        <translation>井盖</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="63"/>
        <source>Litter bin</source>
        <translation>废物箱</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="65"/>
        <source>Electrical box</source>
        <translation>配电箱</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="66"/>
        <source>Bus stop</source>
        <translation>公交站</translation>
    </message>
    <message>
        <location filename="../core/task_table.py" line="67"/>
        <source>Bike rack</source>
        <translation>非机动车停放点</translation>
    </message>
    <message>
        <location filename="../core/twin_selection.py" line="66"/>
        <source> and {0} more</source>
        <translation> 等 {0} 处</translation>
    </message>
    <message>
        <location filename="../core/twin_selection.py" line="85"/>
        <source>Component: {0}</source>
        <translation>部件：{0}</translation>
    </message>
    <message>
        <location filename="../gui/task_dialogs.py" line="44"/>
        <source>Place</source>
        <translation>位置</translation>
    </message>
    <message>
        <location filename="../gui/task_dialogs.py" line="47"/>
        <source>Description</source>
        <translation>描述</translation>
    </message>
    <message>
        <location filename="../gui/tasks_dock.py" line="160"/>
        <source>From component</source>
        <translation>按部件新建</translation>
    </message>
    <message>
        <location filename="../gui/tasks_dock.py" line="161"/>
        <source>Create a task at each twin feature selected on the map</source>
        <translation>在地图上选中的每个部件处新建任务</translation>
    </message>
    <message>
        <location filename="../gui/tasks_dock.py" line="432"/>
        <source>Select a component, pipeline or area on the map first</source>
        <translation>请先在地图上选择部件、管线或区域</translation>
    </message>
    <message>
        <location filename="../gui/stats_dock.py" line="51"/>
        <source>Open tasks</source>
        <translation>在办</translation>
    </message>
    <message>
        <location filename="../gui/stats_dock.py" line="53"/>
        <source>Closed (7 days)</source>
        <translation>近7天办结</translation>
    </message>
    <message>
        <location filename="../gui/stats_dock.py" line="54"/>
        <source>Median hours to close</source>
        <translation>办结时长中位数（小时）</translation>
    </message>
    <message>
        <location filename="../gui/stats_dock.py" line="91"/>
        <source>GridOps statistics</source>
        <translation>GridOps 统计</translation>
    </message>
    <message>
        <location filename="../gui/stats_dock.py" line="92"/>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <location filename="../gui/stats_dock.py" line="93"/>
        <source>Statistics map</source>
        <translation>统计地图</translation>
    </message>
    <message>
        <location filename="../gui/stats_dock.py" line="94"/>
        <source>Add a map of the grids coloured by their open tasks</source>
        <translation>添加按在办任务数着色的网格地图</translation>
    </message>
    <message>
        <location filename="../gui/stats_dock.py" line="120"/>
        <source>Connect to the hub to see statistics.</source>
        <translation>连接中心后可查看统计。</translation>
    </message>
    <message>
        <location filename="../gui/stats_dock.py" line="129"/>
        <source>The statistics cannot be read: {error}</source>
        <translation>无法读取统计：{error}</translation>
    </message>
    <message>
        <location filename="../gui/stats_dock.py" line="138"/>
        <source>As of {time}.</source>
        <translation>截至 {time}。</translation>
    </message>
    <message>
        <location filename="../gui/stats_dock.py" line="139"/>
        <source>Open: not closed, canceled or invalid; closed, median: last 7 days.</source>
        <translation>在办：未办结、未取消、非无效；办结数与中位数：近 7 天。</translation>
    </message>
    <message>
        <location filename="../gui/stats_dock.py" line="148"/>
        <source>Total</source>
        <translation>合计</translation>
    </message>
    <message>
        <location filename="../gui/stats_dock.py" line="202"/>
        <source>Making the statistics map…</source>
        <translation>正在生成统计地图…</translation>
    </message>
    <message>
        <location filename="../gui/stats_dock.py" line="212"/>
        <source>The statistics map could not be made.</source>
        <translation>无法生成统计地图。</translation>
    </message>
    <message>
        <location filename="../processing/grid_statistics.py" line="84"/>
        <source>Grid statistics</source>
        <translation>网格统计</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="442"/>
        <source>Statistics</source>
        <translation>统计</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="137"/>
        <source>Show or hide the GridOps statistics panel</source>
        <translation>显示或隐藏 GridOps 统计面板</translation>
    </message>
    <message>
        <location filename="../plugin.py" line="245"/>
        <source>The GridOps Processing tools are missing</source>
        <translation>GridOps 处理工具缺失</translation>
    </message>
    <message>
        <location filename="../processing/algorithm.py" line="66"/>
        <source>GridOps replica (empty: the connected account&apos;s)</source>
        <translation>GridOps 副本（留空：当前连接账号的副本）</translation>
    </message>
    <message>
        <location filename="../processing/algorithm.py" line="84"/>
        <source>No GridOps replica: connect to the hub or choose a replica file.</source>
        <translation>没有 GridOps 副本：请连接中心或选择副本文件。</translation>
    </message>
    <message>
        <location filename="../processing/choropleth.py" line="50"/>
        <source>10 or more</source>
        <translation>10 及以上</translation>
    </message>
    <message>
        <location filename="../processing/choropleth.py" line="68"/>
        <source>open {open} · overdue {overdue}</source>
        <translation>在办 {open} · 超期 {overdue}</translation>
    </message>
    <message>
        <location filename="../processing/export_tasks.py" line="157"/>
        <source>Export tasks</source>
        <translation>导出任务</translation>
    </message>
    <message>
        <location filename="../processing/export_tasks.py" line="160"/>
        <source>Exports the replica&apos;s tasks to a point layer and/or a CSV file.</source>
        <translation>将副本中的任务导出为点图层和/或 CSV 文件。</translation>
    </message>
    <message>
        <location filename="../processing/export_tasks.py" line="160"/>
        <source>Filters: statuses, grid codes and creation time.</source>
        <translation>筛选条件：状态、网格编码和创建时间。</translation>
    </message>
    <message>
        <location filename="../processing/export_tasks.py" line="160"/>
        <source>The CSV is UTF-8 with BOM (Excel shows Chinese) with lon/lat columns.</source>
        <translation>CSV 为带 BOM 的 UTF-8（Excel 可正常显示中文），含经纬度列。</translation>
    </message>
    <message>
        <location filename="../processing/export_tasks.py" line="174"/>
        <source>Statuses (none: all)</source>
        <translation>状态（不选：全部）</translation>
    </message>
    <message>
        <location filename="../processing/export_tasks.py" line="183"/>
        <source>Grid codes, comma-separated (empty: all)</source>
        <translation>网格编码，逗号分隔（留空：全部）</translation>
    </message>
    <message>
        <location filename="../processing/export_tasks.py" line="190"/>
        <source>Created from</source>
        <translation>创建时间起</translation>
    </message>
    <message>
        <location filename="../processing/export_tasks.py" line="197"/>
        <source>Created until</source>
        <translation>创建时间止</translation>
    </message>
    <message>
        <location filename="../processing/export_tasks.py" line="213"/>
        <source>CSV file</source>
        <translation>CSV 文件</translation>
    </message>
    <message>
        <location filename="../processing/export_tasks.py" line="241"/>
        <source>The range is empty: “created from” is after “created until”.</source>
        <translation>时间范围为空：“创建时间起”晚于“创建时间止”。</translation>
    </message>
    <message>
        <location filename="../processing/export_tasks.py" line="252"/>
        <source>No such grid in the replica: {codes} (it has {known}).</source>
        <translation>副本中没有该网格：{codes}（现有：{known}）。</translation>
    </message>
    <message>
        <location filename="../processing/export_tasks.py" line="273"/>
        <source>Choose where to export: a layer, a CSV file or both.</source>
        <translation>请选择导出位置：图层、CSV 文件或两者。</translation>
    </message>
    <message>
        <location filename="../processing/export_tasks.py" line="295"/>
        <source>Cannot write {path}: {error}</source>
        <translation>无法写入 {path}：{error}</translation>
    </message>
    <message>
        <location filename="../processing/export_tasks.py" line="302"/>
        <source>{count} task(s) exported.</source>
        <translation>已导出 {count} 个任务。</translation>
    </message>
    <message>
        <location filename="../processing/grid_statistics.py" line="67"/>
        <source>Writes the replica&apos;s grids with four figures per grid.</source>
        <translation>输出副本中的网格，每个网格附四项统计。</translation>
    </message>
    <message>
        <location filename="../processing/grid_statistics.py" line="67"/>
        <source>open: tasks not closed, canceled or invalid.</source>
        <translation>open：未办结、未取消且非无效的任务。</translation>
    </message>
    <message>
        <location filename="../processing/grid_statistics.py" line="67"/>
        <source>overdue: open tasks past their due time.</source>
        <translation>overdue：已过期限的在办任务。</translation>
    </message>
    <message>
        <location filename="../processing/grid_statistics.py" line="67"/>
        <source>closed_week: tasks closed in the last 7 days.</source>
        <translation>closed_week：近 7 天办结的任务。</translation>
    </message>
    <message>
        <location filename="../processing/grid_statistics.py" line="67"/>
        <source>median_close_h: their median hours from creation to closing.</source>
        <translation>median_close_h：这些任务从创建到办结的时长中位数（小时）。</translation>
    </message>
    <message>
        <location filename="../processing/grid_statistics.py" line="67"/>
        <source>Loaded into the project, it is a choropleth of open tasks.</source>
        <translation>加载到项目后按在办任务数分级着色。</translation>
    </message>
    <message>
        <location filename="../processing/grid_statistics.py" line="105"/>
        <source>The replica has no readable grids layer.</source>
        <translation>副本中没有可读取的网格图层。</translation>
    </message>
    <message>
        <location filename="../processing/grid_statistics.py" line="126"/>
        <source>Grid {code} has tasks but is no longer in the replica.</source>
        <translation>网格 {code} 有任务，但副本中已无该网格。</translation>
    </message>
    <message>
        <location filename="../processing/import_twin.py" line="122"/>
        <source>Import layer as twin features</source>
        <translation>将图层导入为孪生要素</translation>
    </message>
    <message>
        <location filename="../processing/import_twin.py" line="125"/>
        <source>Sends a layer to the GridOps hub as twin features, updated by id.</source>
        <translation>将图层作为孪生要素发送到 GridOps 中心，按编号更新。</translation>
    </message>
    <message>
        <location filename="../processing/import_twin.py" line="125"/>
        <source>Points go to components, lines to pipelines, polygons to areas.</source>
        <translation>点导入部件，线导入管线，面导入区域。</translation>
    </message>
    <message>
        <location filename="../processing/import_twin.py" line="125"/>
        <source>Account: the connected admin, or an admin&apos;s authentication (Basic).</source>
        <translation>账号：当前连接的管理员，或管理员的认证配置（Basic）。</translation>
    </message>
    <message>
        <location filename="../processing/import_twin.py" line="125"/>
        <source>Every feature is checked first; if any is bad, nothing is sent.</source>
        <translation>先检查每个要素；只要有一个有问题，就不发送任何要素。</translation>
    </message>
    <message>
        <location filename="../processing/import_twin.py" line="141"/>
        <source>Layer to import</source>
        <translation>要导入的图层</translation>
    </message>
    <message>
        <location filename="../processing/import_twin.py" line="152"/>
        <source>Twin layer</source>
        <translation>孪生图层</translation>
    </message>
    <message>
        <location filename="../processing/import_twin.py" line="152"/>
        <source>By geometry</source>
        <translation>按几何类型</translation>
    </message>
    <message>
        <location filename="../processing/import_twin.py" line="152"/>
        <source>Components (points)</source>
        <translation>部件（点）</translation>
    </message>
    <message>
        <location filename="../processing/import_twin.py" line="152"/>
        <source>Pipelines (lines)</source>
        <translation>管线（线）</translation>
    </message>
    <message>
        <location filename="../processing/import_twin.py" line="152"/>
        <source>Areas (polygons)</source>
        <translation>区域（面）</translation>
    </message>
    <message>
        <location filename="../processing/import_twin.py" line="165"/>
        <source>Id field</source>
        <translation>编号字段</translation>
    </message>
    <message>
        <location filename="../processing/import_twin.py" line="172"/>
        <source>Kind field</source>
        <translation>类型字段</translation>
    </message>
    <message>
        <location filename="../processing/import_twin.py" line="180"/>
        <source>Kind for features without one (e.g. streetlight)</source>
        <translation>无类型要素使用的类型（如 streetlight）</translation>
    </message>
    <message>
        <location filename="../processing/import_twin.py" line="189"/>
        <source>Name field</source>
        <translation>名称字段</translation>
    </message>
    <message>
        <location filename="../processing/import_twin.py" line="197"/>
        <source>Status field</source>
        <translation>状态字段</translation>
    </message>
    <message>
        <location filename="../processing/import_twin.py" line="205"/>
        <source>Send the other fields as properties</source>
        <translation>其他字段作为属性一并发送</translation>
    </message>
    <message>
        <location filename="../processing/import_twin.py" line="212"/>
        <source>Hub URL (empty: the connected hub)</source>
        <translation>中心地址（留空：当前连接的中心）</translation>
    </message>
    <message>
        <location filename="../processing/import_twin.py" line="219"/>
        <source>Admin account (empty: the connected account, if an admin)</source>
        <translation>管理员账号（留空：当前连接的账号，须为管理员）</translation>
    </message>
    <message>
        <location filename="../processing/import_twin.py" line="228"/>
        <source>Features per request</source>
        <translation>每次请求的要素数</translation>
    </message>
    <message>
        <location filename="../processing/import_twin.py" line="267"/>
        <source>No hub: give the hub URL or connect GridOps first.</source>
        <translation>未指定中心：请填写中心地址或先连接 GridOps。</translation>
    </message>
    <message>
        <location filename="../processing/import_twin.py" line="275"/>
        <source>Importing twin features needs an admin account.</source>
        <translation>导入孪生要素需要管理员账号。</translation>
    </message>
    <message>
        <location filename="../processing/import_twin.py" line="278"/>
        <source>Connect as an admin, or choose an admin&apos;s authentication (Basic).</source>
        <translation>请以管理员身份连接，或选择管理员的认证配置（Basic）。</translation>
    </message>
    <message>
        <location filename="../processing/import_twin.py" line="285"/>
        <source>The authentication configuration {id} cannot be read.</source>
        <translation>无法读取认证配置 {id}。</translation>
    </message>
    <message>
        <location filename="../processing/import_twin.py" line="293"/>
        <source>The authentication {id} has no username and password (use Basic).</source>
        <translation>认证配置 {id} 没有用户名和密码（请使用 Basic）。</translation>
    </message>
    <message>
        <location filename="../processing/import_twin.py" line="297"/>
        <source>Logging in to {url} as {user}.</source>
        <translation>正在以 {user} 登录 {url}。</translation>
    </message>
    <message>
        <location filename="../processing/import_twin.py" line="307"/>
        <source>Cannot reach the hub at {url}.</source>
        <translation>无法连接中心 {url}。</translation>
    </message>
    <message>
        <location filename="../processing/import_twin.py" line="313"/>
        <source>The hub refused the login: {message}</source>
        <translation>中心拒绝登录：{message}</translation>
    </message>
    <message>
        <location filename="../processing/import_twin.py" line="331"/>
        <source>The layer has no point, line or polygon geometry.</source>
        <translation>该图层没有点、线或面几何。</translation>
    </message>
    <message>
        <location filename="../processing/import_twin.py" line="337"/>
        <source>This layer&apos;s geometries go into {natural}, not {chosen}.</source>
        <translation>该图层的几何应导入 {natural}，而不是 {chosen}。</translation>
    </message>
    <message>
        <location filename="../processing/import_twin.py" line="366"/>
        <source>Give a kind field, or a kind for the whole layer.</source>
        <translation>请指定类型字段，或为整个图层指定类型。</translation>
    </message>
    <message>
        <location filename="../processing/import_twin.py" line="374"/>
        <source>The layer has no field {name}.</source>
        <translation>图层中没有字段 {name}。</translation>
    </message>
    <message>
        <location filename="../processing/import_twin.py" line="384"/>
        <source>The layer has no coordinate reference system: set one first.</source>
        <translation>图层没有坐标参考系，请先设置。</translation>
    </message>
    <message>
        <location filename="../processing/import_twin.py" line="445"/>
        <source>… and {count} more.</source>
        <translation>……另有 {count} 个。</translation>
    </message>
    <message>
        <location filename="../processing/import_twin.py" line="450"/>
        <source>{bad} of {total} feature(s) cannot be imported (listed above).</source>
        <translation>{total} 个要素中有 {bad} 个无法导入（见上文）。</translation>
    </message>
    <message>
        <location filename="../processing/import_twin.py" line="453"/>
        <source>Nothing was sent: fix or filter them, then run the import again.</source>
        <translation>未发送任何要素：请修正或筛除后重新导入。</translation>
    </message>
    <message>
        <location filename="../processing/import_twin.py" line="457"/>
        <source>Sending {count} feature(s) to {layer} at {url}.</source>
        <translation>正在向 {url} 的 {layer} 发送 {count} 个要素。</translation>
    </message>
    <message>
        <location filename="../processing/import_twin.py" line="473"/>
        <source>Cancelled: {sent} of {total} feature(s) imported; run it again.</source>
        <translation>已取消：{total} 个要素中已导入 {sent} 个；请重新运行。</translation>
    </message>
    <message>
        <location filename="../processing/import_twin.py" line="478"/>
        <source>Done: {inserted} new, {updated} updated, {outside} in no grid.</source>
        <translation>完成：新增 {inserted} 个，更新 {updated} 个，{outside} 个不在任何网格内。</translation>
    </message>
</context>
</TS>
