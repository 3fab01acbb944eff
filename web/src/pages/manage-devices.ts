import type { DeviceDto, DeviceInput, Page as ListPage, StreamMode } from '../../../src/api/dto';
import { el, type AppContext } from '../app';
import { registerMessages } from '../i18n';
import type { Page } from './index';
import { button, deleteButton, formatTime, input, labelled, Notice, refreshOn, select, table } from './manage-ui';

registerMessages('manageDevices', {
  en: {
    title: 'GB28181 devices',
    id: 'Device ID',
    name: 'Name',
    online: 'Online',
    address: 'Address',
    streamMode: 'Stream mode',
    charset: 'Charset',
    password: 'Password',
    passwordKeep: 'unchanged',
    passwordSet: 'set (type to change)',
    passwordGlobal: 'sip.password',
    noAuth: 'No digest',
    lastSeen: 'Last keepalive',
    channels: 'Channels',
    addTitle: 'Provision a device (before it registers)',
    udp: 'UDP',
    'tcp-passive': 'TCP passive (camera connects)',
    'tcp-active': 'TCP active (gateway connects)',
    load: 'Loading devices',
    saving: 'Saving {id}',
    adding: 'Adding the device',
    deleting: 'Deleting {id}',
    noDevices: 'No device has registered or been provisioned.',
  },
  'zh-CN': {
    title: 'GB28181 设备',
    id: '设备编号',
    name: '名称',
    online: '在线',
    address: '地址',
    streamMode: '取流方式',
    charset: '字符集',
    password: '密码',
    passwordKeep: '不修改',
    passwordSet: '已设置（输入以修改）',
    passwordGlobal: '使用 sip.password',
    noAuth: '免认证',
    lastSeen: '最后心跳',
    channels: '通道数',
    addTitle: '预置设备（注册之前）',
    udp: 'UDP',
    'tcp-passive': 'TCP 被动（摄像机连接网关）',
    'tcp-active': 'TCP 主动（网关连接摄像机）',
    load: '读取设备',
    saving: '保存 {id}',
    adding: '添加设备',
    deleting: '删除 {id}',
    noDevices: '还没有设备注册或预置。',
  },
});

/** Every stream mode (the Record makes the compiler list each one of StreamMode). */
const MODES: Record<StreamMode, true> = { udp: true, 'tcp-passive': true, 'tcp-active': true };
const CHARSETS = ['GB2312', 'GBK', 'GB18030', 'UTF-8'];

function modeOptions(ctx: AppContext): { value: string; label: string }[] {
  return Object.keys(MODES).map((m) => ({ value: m, label: ctx.t(`manageDevices.${m}`) }));
}

/** One device's editable row: name, password, no-auth, stream mode, charset; save and delete. */
function deviceRow(ctx: AppContext, device: DeviceDto, notice: Notice, reload: () => void): (Node | string)[] {
  const { t } = ctx;
  const name = input({ value: device.name ?? '', maxlength: 100, 'aria-label': t('manageDevices.name') });
  const password = input({
    type: 'password',
    placeholder: device.hasPassword ? t('manageDevices.passwordSet') : t('manageDevices.passwordGlobal'),
    maxlength: 64,
    autocomplete: 'new-password',
    'aria-label': t('manageDevices.password'),
  });
  const noAuth = input({ type: 'checkbox', 'aria-label': t('manageDevices.noAuth'), ...(device.noAuth ? { checked: true } : {}) });
  const mode = select(modeOptions(ctx), device.streamMode, { 'aria-label': t('manageDevices.streamMode') });
  const charset = select(
    CHARSETS.map((c) => ({ value: c, label: c })),
    device.charset,
    { 'aria-label': t('manageDevices.charset') },
  );
  const save = button(t('manage.save'), async () => {
    const body: DeviceInput = { name: name.value, noAuth: noAuth.checked, streamMode: mode.value as StreamMode, charset: charset.value };
    if (password.value) body.password = password.value;
    if (await notice.run(t('manageDevices.saving', { id: device.id }), () => ctx.api('PATCH', `/api/devices/${device.id}`, body))) notice.ok(t('manage.saved'));
    password.value = '';
    reload();
  });
  const remove = deleteButton(ctx, async () => {
    if (await notice.run(t('manageDevices.deleting', { id: device.id }), () => ctx.api('DELETE', `/api/devices/${device.id}`))) notice.ok(t('manage.deleted', { what: device.id }));
    reload();
  });
  return [
    el('code', {}, device.id),
    name,
    el('span', { class: device.online ? 'state on' : 'state off' }, device.online ? t('manage.yes') : t('manage.no')),
    device.address ?? '—',
    mode,
    charset,
    password,
    noAuth,
    String(device.channelCount),
    formatTime(device.keepaliveAt, ctx.lang),
    el('span', { class: 'actions' }, save, remove),
  ];
}

function addForm(ctx: AppContext, notice: Notice, reload: () => void): HTMLFormElement {
  const { t } = ctx;
  const id = input({ required: true, pattern: '\\d{20}', placeholder: '34020000001320000001', maxlength: 20 });
  const name = input({ maxlength: 100 });
  const password = input({ type: 'password', maxlength: 64, autocomplete: 'new-password', placeholder: t('manageDevices.passwordGlobal') });
  const mode = select(modeOptions(ctx), 'udp');
  const charset = select(
    CHARSETS.map((c) => ({ value: c, label: c })),
    'GB2312',
  );
  const form = el(
    'form',
    { class: 'add-form' },
    el('h3', {}, t('manageDevices.addTitle')),
    labelled(t('manageDevices.id'), id),
    labelled(t('manageDevices.name'), name),
    labelled(t('manageDevices.password'), password),
    labelled(t('manageDevices.streamMode'), mode),
    labelled(t('manageDevices.charset'), charset),
    el('button', { type: 'submit' }, t('manage.add')),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const body: DeviceInput & { id: string } = {
      id: id.value,
      streamMode: mode.value as StreamMode,
      charset: charset.value,
      ...(name.value ? { name: name.value } : {}),
      ...(password.value ? { password: password.value } : {}),
    };
    void notice
      .run(t('manageDevices.adding'), () => ctx.api('POST', '/api/devices', body))
      .then((ok) => {
        if (ok) form.reset();
        reload();
      });
  });
  return form;
}

/** GB28181 devices: rename, per-device password, stream mode, charset, delete; provision new ones. */
export const manageDevicesPage: Page = {
  id: 'manage-devices',
  path: '/manage-devices',
  titleKey: 'manageDevices.title',
  mount(root: HTMLElement, ctx: AppContext): () => void {
    const { t } = ctx;
    const notice = new Notice(ctx);
    const list = el('div', {});
    const load = async (): Promise<void> => {
      await notice.run(t('manageDevices.load'), async () => {
        const page = await ctx.api<ListPage<DeviceDto>>('GET', '/api/devices?page=1&count=500');
        const headers = ['id', 'name', 'online', 'address', 'streamMode', 'charset', 'password', 'noAuth', 'channels', 'lastSeen'].map((k) => t(`manageDevices.${k}`));
        list.replaceChildren(
          page.items.length
            ? table(
                [...headers, ''],
                page.items.map((d) => deviceRow(ctx, d, notice, () => void load())),
              )
            : el('p', { class: 'empty' }, t('manageDevices.noDevices')),
        );
      });
    };
    const page = el(
      'section',
      { class: 'manage-page' },
      el('h2', {}, t('manageDevices.title')),
      list,
      notice.root,
      addForm(ctx, notice, () => void load()),
    );
    root.append(page);
    void load();
    // Editing a row must not be wiped by a timer: only online/offline changes reload the list.
    const stop = refreshOn(ctx, ['device.online', 'device.offline'], () => void load(), 60_000);
    return () => {
      stop();
      page.remove();
    };
  },
};
